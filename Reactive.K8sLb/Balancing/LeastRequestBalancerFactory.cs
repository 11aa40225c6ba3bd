using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.HealthChecking;
using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb;

/// <summary>
/// Creates balancers of the <c>least_request</c> policy (gRFC A48; see <see cref="LeastRequestConfig"/>). <see cref="BalancedChannel"/> and <c>AddKubernetesLoadBalancing</c> register it; select
/// it with a <see cref="LeastRequestConfig"/> in the channel's service config. Per endpoint it reports
/// <c>k8slb.endpoint.outstanding_calls</c> besides the metrics of
/// <see cref="NewestFirstRoundRobinBalancerFactory"/>.
/// </summary>
public sealed class LeastRequestBalancerFactory : LoadBalancerFactory
{
    /// <summary>The policy name, <c>least_request</c>.</summary>
    public const string PolicyName = "least_request";

    private static readonly PickingPolicy Defaults = new PickingPolicy(LoadMeasure.OutstandingCalls, 2, 0, TimeSpan.TicksPerSecond);

    private readonly HealthCheckChannel? _healthChannel;

    /// <summary>Creates the factory (for <c>k8s:///</c> channels and service collections: no active health checking).</summary>
    public LeastRequestBalancerFactory()
    {
    }

    /// <summary>Creates the factory of one <see cref="BalancedChannel"/>, whose balancers send health calls through it.</summary>
    internal LeastRequestBalancerFactory(HealthCheckChannel healthChannel) => _healthChannel = healthChannel;

    /// <inheritdoc />
    public override string Name => PolicyName;

    /// <inheritdoc />
    public override LoadBalancer Create(LoadBalancerOptions options) => LibraryBalancers.Create(options, _healthChannel, Defaults);
}
