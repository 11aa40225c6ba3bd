using System.Net;
using System.Reactive.Concurrency;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using k8s;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb;

/// <summary>
/// Settings of the <c>k8s:///</c> resolver (<see cref="KubernetesResolverFactory"/>): how each address becomes a
/// <see cref="DiscoveryConfig"/>, how endpoints become balancer addresses, and what the resolver reports.
/// Every property has a documented default; <see langword="null"/> keeps the <see cref="DiscoveryConfig"/> default.
/// </summary>
public sealed class KubernetesLoadBalancingOptions
{
    /// <summary>The port used when a <c>k8s:///</c> address has none, as in <c>k8s:///greeter.demo</c>. The default
    /// value is <see langword="null"/>: an address without a port is an error (an <see cref="ArgumentException"/> when
    /// the channel is created, naming the address and saying to add <c>:port</c> or set this property). The channel's
    /// own default port (80 insecure, 443 secure) is never used.</summary>
    public ServicePort? DefaultPort { get; set; }

    /// <summary>How to reach the Kubernetes API. The default value is <see langword="null"/>: see
    /// <see cref="DiscoveryConfig.ClientConfiguration"/>.</summary>
    public KubernetesClientConfiguration? ClientConfiguration { get; set; }

    /// <summary>Which endpoints receive traffic. The default value is <see langword="null"/>:
    /// <see cref="ReadinessPolicy.ReadyWithTerminatingFallback"/>.</summary>
    public ReadinessPolicy? Readiness { get; set; }

    /// <summary>Which slices contribute, by address type. The default value is <see langword="null"/>:
    /// <see cref="AddressFamilyPolicy.PreferIPv4"/>.</summary>
    public AddressFamilyPolicy? AddressFamily { get; set; }

    /// <summary>The debounce quiet window. The default value is <see langword="null"/>: 50 milliseconds.</summary>
    public TimeSpan? Debounce { get; set; }

    /// <summary>The cap on how long churn can hold a change. The default value is <see langword="null"/>: 500
    /// milliseconds, or the debounce window when that is longer.</summary>
    public TimeSpan? MaxDebounceDelay { get; set; }

    /// <summary>Whether a change after a quiet period is emitted at once. The default value is <see langword="null"/>:
    /// <see langword="true"/> (see <see cref="DiscoveryConfig.DebounceLeadingEdge"/>).</summary>
    public bool? DebounceLeadingEdge { get; set; }

    /// <summary>Server-side watch duration. The default value is <see langword="null"/>: 5 minutes
    /// (see <see cref="DiscoveryConfig.WatchTimeout"/>).</summary>
    public TimeSpan? WatchTimeout { get; set; }

    /// <summary>Idle watchdog of each watch. The default value is <see langword="null"/>: 2 minutes
    /// (see <see cref="DiscoveryConfig.IdleTimeout"/>).</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Retry delays after Kubernetes API failures. The default value is <see langword="null"/>:
    /// <see cref="BackoffOptions.Default"/>.</summary>
    public BackoffOptions? Backoff { get; set; }

    /// <summary>Where discovery logs go. The default value is <see langword="null"/>: the channel's logger factory.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The scheduler for discovery timers and for the resolver's publishes. The default value is
    /// <see langword="null"/>: <see cref="DefaultScheduler.Instance"/> for timers and
    /// <see cref="TaskPoolScheduler.Default"/> for publishes. Must not run work synchronously.</summary>
    public IScheduler? Scheduler { get; set; }

    /// <summary>Maps an endpoint to a balancer address (for example to add a <c>HostOverride</c> attribute). The
    /// default value is <see langword="null"/>: IP endpoints become their address text and port, DNS endpoints
    /// their host and port.</summary>
    public Func<EndPoint, BalancerAddress>? Build { get; set; }

    /// <summary>The service config the resolver reports with every address list (it overrides the channel's unless
    /// <c>GrpcChannelOptions.DisableResolverServiceConfig</c> is set). The default value is
    /// <c>newest_first_round_robin</c> (see <see cref="NewestFirstRoundRobinBalancerFactory"/>), falling back to
    /// grpc-dotnet's round_robin where that policy is not registered; set <see langword="null"/> to leave the policy to
    /// the channel's <c>ServiceConfig</c>.</summary>
    public ServiceConfig? ServiceConfig { get; set; } = new() { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig(), new RoundRobinConfig() } };

    /// <summary>The discovery source for a configuration. The default value is <see langword="null"/>: Kubernetes
    /// EndpointSlice discovery. Set it to share one Kubernetes client or to plug in another source.</summary>
    public Func<DiscoveryConfig, IDiscoveryObservable>? Observe { get; set; }
}
