using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace Reactive.K8sLb;

/// <summary>
/// Settings of the <c>k8s:///</c> resolver (<see cref="KubernetesResolverFactory"/>): the discovery settings every
/// address's <see cref="DiscoveryConfig"/> starts from (inherited from <see cref="DiscoveryOptions"/>, with the same
/// defaults), how endpoints become balancer addresses, and what the resolver reports. With dependency injection it is
/// an options type: <c>AddKubernetesLoadBalancing</c> registers it, repeated <c>Configure</c> calls compose, and it
/// can be bound from an <c>IConfiguration</c> section. <see cref="DiscoveryOptions.Scheduler"/> also schedules the
/// resolver's publishes (default: <c>TaskPoolScheduler.Default</c>; it must not run work synchronously).
/// </summary>
public sealed class KubernetesLoadBalancingOptions : DiscoveryOptions
{
    /// <summary>Creates options with the documented defaults (<see cref="DiscoveryOptions.ReportHealth"/> is
    /// <see langword="true"/> here: every <c>k8s:///</c> channel is reported by the discovery health check).</summary>
    public KubernetesLoadBalancingOptions() => ReportHealth = true;

    /// <summary>The port used when a <c>k8s:///</c> address has none, as in <c>k8s:///greeter.demo</c>. The default
    /// value is <see langword="null"/>: an address without a port is an error (an <see cref="ArgumentException"/> when
    /// the channel is created, naming the address and saying to add <c>:port</c> or set this property). The channel's
    /// own default port (80 insecure, 443 secure) is never used.</summary>
    public ServicePort? DefaultPort { get; set; }

    /// <summary>Maps an endpoint, with what its EndpointSlice says about it (pod, node, zone, conditions, hints), to a
    /// balancer address, for example to add a per-pod <c>HostOverride</c> attribute. It is called once per inserted
    /// endpoint and again when the endpoint's metadata changes while it stays in the set (the resulting address
    /// replaces the old one under the same <c>EndPoint</c>: the channel keeps the connection). An endpoint for which it
    /// throws or returns <see langword="null"/> is skipped and logged. The address gets the
    /// <see cref="KubernetesEndpoint"/> under <see cref="KubernetesEndpoint.AttributeKey"/> unless the function set that
    /// key itself. A function of the bare endpoint is written <c>e =&gt; f(e.EndPoint)</c>. The default value is
    /// <see langword="null"/>: IP endpoints become their address text and port, DNS endpoints their host and port, with
    /// the <see cref="KubernetesEndpoint"/> attribute (kept up to date when the metadata changes).</summary>
    public Func<KubernetesEndpoint, BalancerAddress>? Build { get; set; }

    /// <summary>The service config the resolver reports with every address list (it overrides the channel's unless
    /// <c>GrpcChannelOptions.DisableResolverServiceConfig</c> is set). The default value is
    /// <c>newest_first_round_robin</c> (see <see cref="NewestFirstRoundRobinBalancerFactory"/>) with outlier ejection on,
    /// falling back to grpc-dotnet's round_robin where that policy is not registered; set <see langword="null"/> to leave
    /// the policy to the channel's <c>ServiceConfig</c>. To tune or turn off ejection, set
    /// <c>NewestFirstRoundRobinConfig.DefaultServiceConfig(new OutlierDetectionOptions { ... })</c>; add
    /// <see cref="OutlierDetectionInterceptor"/> to the clients so that it sees the status of every call.</summary>
    public ServiceConfig? ServiceConfig { get; set; } = NewestFirstRoundRobinConfig.DefaultServiceConfig();

    /// <summary>The discovery source for a configuration. The default value is <see langword="null"/>: Kubernetes
    /// EndpointSlice discovery (with the <c>IKubernetes</c> client registered in the service provider, if any). Set it
    /// to plug in another source.</summary>
    public Func<DiscoveryConfig, IDiscoveryObservable>? Observe { get; set; }
}
