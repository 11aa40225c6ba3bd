using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.HealthChecking;

namespace Reactive.K8sLb;

/// <summary>
/// The <c>newest_first_round_robin</c> load-balancing policy: round robin over the ready subchannels, except that an
/// address that is new to the set (not in it during the last 5 minutes) takes the next call once it is ready, instead
/// of waiting for round robin to come round to it; a pod whose readiness flaps, or a reconnecting subchannel, just
/// rejoins the cycle. The address list is authoritative: an empty list, or the library resolver's "no endpoints"
/// failure, fails calls with the reason even while the channel is Ready (unlike grpc-dotnet's round_robin,
/// grpc/grpc-dotnet#1860), and while that resolver waits for its first snapshot calls wait, bounded by their deadline.
/// <see cref="BalancedChannel.Create(Grpc.Net.Client.GrpcChannelOptions)"/> and <c>AddKubernetesLoadBalancing</c> use it by default; grpc-dotnet's
/// <c>round_robin</c> remains available through the channel's service config.
/// <para>Per endpoint (tagged <c>network.peer.address</c>, <c>network.peer.port</c> and the Service), the policy
/// reports on the <see cref="K8sLbTelemetry.MeterName"/> meter the calls it picked (<c>k8slb.endpoint.picks</c>), the
/// calls by <c>rpc.grpc.status_code</c> as far as the transport shows it (<c>k8slb.endpoint.calls</c>: a status the
/// server sends in the trailers counts as 0), its subchannel's state changes (<c>k8slb.subchannel.state_changes</c>)
/// and gRFC A94's <c>grpc.subchannel.connection_attempts_succeeded</c>, <c>connection_attempts_failed</c>,
/// <c>disconnections</c> and <c>open_connections</c>. A pick allocates nothing, whether or not anyone listens.</para>
/// <para>Outlier ejection (<see cref="OutlierDetectionOptions"/>, on by default, set through
/// <see cref="BalancingPolicyConfig.OutlierDetection"/>): an endpoint whose calls fail stops receiving calls for a
/// while, reported as <c>k8slb.endpoint.ejections</c> (by <c>k8slb.ejection.reason</c>), <c>k8slb.endpoint.readmissions</c>
/// and <c>k8slb.endpoints.ejected</c>, and logged with the evidence. The final status of a call is seen when it goes
/// through <see cref="BalancedChannel"/>'s call invoker; otherwise only what grpc-dotnet shows the policy (transport
/// errors when the response headers are awaited) counts.</para>
/// <para>Active health checking (<see cref="ActiveHealthCheckOptions"/>, off by default, set through
/// <see cref="BalancingPolicyConfig.HealthCheck"/>; <see cref="BalancedChannel"/> only): an endpoint whose
/// <c>grpc.health.v1</c> health service says it is not SERVING receives no calls, reported as
/// <c>k8slb.endpoint.health_transitions</c> (by <c>k8slb.health.status</c>) and <c>k8slb.endpoints.not_serving</c>.</para>
/// </summary>
public sealed class NewestFirstRoundRobinBalancerFactory : LoadBalancerFactory
{
    private readonly HealthCheckChannel? _healthChannel;

    /// <summary>Creates the factory (for <c>k8s:///</c> channels and service collections: no active health checking,
    /// which needs a <see cref="BalancedChannel"/>).</summary>
    public NewestFirstRoundRobinBalancerFactory()
    {
    }

    /// <summary>Creates the factory of one <see cref="BalancedChannel"/>, whose balancers send health calls through it.</summary>
    internal NewestFirstRoundRobinBalancerFactory(HealthCheckChannel healthChannel) => _healthChannel = healthChannel;

    /// <summary>The policy name, <c>newest_first_round_robin</c>.</summary>
    public const string PolicyName = "newest_first_round_robin";

    /// <inheritdoc />
    public override string Name => PolicyName;

    /// <inheritdoc />
    public override LoadBalancer Create(LoadBalancerOptions options) => LibraryBalancers.Create(options, _healthChannel, picking: null);
}
