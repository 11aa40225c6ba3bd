using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.HealthChecking;
using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb;

/// <summary>
/// Creates balancers of the <c>peak_ewma</c> policy (see <see cref="PeakEwmaConfig"/>). <see cref="BalancedChannel"/> and <c>AddKubernetesLoadBalancing</c> register it; select
/// it with a <see cref="PeakEwmaConfig"/> in the channel's service config. Per endpoint it reports
/// <c>k8slb.endpoint.outstanding_calls</c> and <c>k8slb.endpoint.latency_estimate</c> besides the metrics of
/// <see cref="NewestFirstRoundRobinBalancerFactory"/>.
/// </summary>
public sealed class PeakEwmaBalancerFactory : LoadBalancerFactory
{
    /// <summary>The policy name, <c>peak_ewma</c>.</summary>
    public const string PolicyName = "peak_ewma";

    private static readonly PickingPolicy Defaults = new PickingPolicy(LoadMeasure.PeakEwma, 2, TimeSpan.FromMilliseconds(30).Ticks, TimeSpan.FromSeconds(10).Ticks);

    private readonly HealthCheckChannel? _healthChannel;

    /// <summary>Creates the factory (for <c>k8s:///</c> channels and service collections: no active health checking).</summary>
    public PeakEwmaBalancerFactory()
    {
    }

    /// <summary>Creates the factory of one <see cref="BalancedChannel"/>, whose balancers send health calls through it.</summary>
    internal PeakEwmaBalancerFactory(HealthCheckChannel healthChannel) => _healthChannel = healthChannel;

    /// <inheritdoc />
    public override string Name => PolicyName;

    /// <inheritdoc />
    public override LoadBalancer Create(LoadBalancerOptions options) => LibraryBalancers.Create(options, _healthChannel, Defaults);
}
