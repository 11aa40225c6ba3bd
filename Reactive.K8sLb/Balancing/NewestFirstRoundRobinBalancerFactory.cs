using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb;

/// <summary>
/// The <c>newest_first_round_robin</c> load-balancing policy: round robin over the ready subchannels, except that the
/// cycle restarts at a subchannel that has just become ready, so the very next call goes to a pod that was just added
/// (or reconnected) instead of waiting for round robin to come round to it. From then on it is plain round robin.
/// <see cref="BalancedChannel.Create"/> and <c>AddKubernetesLoadBalancing</c> use it by default; grpc-dotnet's
/// <c>round_robin</c> remains available through the channel's service config.
/// </summary>
public sealed class NewestFirstRoundRobinBalancerFactory : LoadBalancerFactory
{
    /// <summary>The policy name, <c>newest_first_round_robin</c>.</summary>
    public const string PolicyName = "newest_first_round_robin";

    /// <inheritdoc />
    public override string Name => PolicyName;

    /// <inheritdoc />
    public override LoadBalancer Create(LoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new NewestFirstRoundRobinBalancer(options.Controller, options.LoggerFactory);
    }
}
