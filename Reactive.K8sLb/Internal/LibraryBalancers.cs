using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.HealthChecking;
using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb.Internal;

/// <summary>Creates the balancer of one of the library's policies from its config fields; the factories differ only in
/// their name and in how they pick.</summary>
internal static class LibraryBalancers
{
    /// <summary>Creates the balancer.</summary>
    /// <param name="options">The channel's options for the balancer (its config fields among them).</param>
    /// <param name="healthChannel">The channel health calls go through, or <see langword="null"/>.</param>
    /// <param name="picking">The policy's picking when its config does not say (a config parsed from JSON rather than
    /// built with the typed classes); <see langword="null"/> for round robin.</param>
    public static LoadBalancer Create(LoadBalancerOptions options, HealthCheckChannel? healthChannel, PickingPolicy? picking)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configuration = options.Configuration;
        return new NewestFirstRoundRobinBalancer(
            options.Controller,
            options.LoggerFactory,
            BalancingPolicyConfig.PolicyOf(configuration),
            healthPolicy: BalancingPolicyConfig.HealthPolicyOf(configuration),
            healthChannel: healthChannel,
            topology: BalancingPolicyConfig.TopologyPolicyOf(configuration),
            picking: picking is null ? null : BalancingPolicyConfig.PickingPolicyOf(configuration) ?? picking,
            slowStart: BalancingPolicyConfig.SlowStartPolicyOf(configuration));
    }
}
