using System.Reactive.Concurrency;
using Grpc.Net.Client.Balancer;
using k8s;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb;

/// <summary>
/// Resolves <c>k8s:///service[.namespace[.svc[.cluster-domain]]][:port-number-or-name]</c> addresses by watching the
/// Service's EndpointSlices, the way grpc-dotnet's <c>dns:///</c> resolver is used: register it as a
/// <see cref="ResolverFactory"/> in the channel's <c>ServiceProvider</c> (see
/// <c>AddKubernetesLoadBalancing</c>), then create channels or gRPC clients for <c>k8s:///</c> addresses.
/// </summary>
/// <remarks>
/// The host part must be empty (three slashes). The Service is named by its short or fully qualified DNS name:
/// <c>greeter</c>, <c>greeter.demo</c>, <c>greeter.demo.svc</c> or <c>greeter.demo.svc.cluster.local</c> (any cluster
/// domain) all name Service <c>greeter</c> in namespace <c>demo</c>. Without a namespace, the client configuration's
/// namespace is used. A port may be a number or an EndpointSlice port name, e.g. <c>k8s:///greeter.demo:grpc</c>;
/// without a port, <see cref="KubernetesLoadBalancingOptions.DefaultPort"/> is used, and when that is not set the
/// address is rejected (the channel's default port, 80 or 443, is never used). Channels of the process on the same
/// Service share one watch and one Kubernetes client (see <see cref="DiscoveryOptions.ShareWatch"/>), started when the
/// first of them starts resolving and stopped 5 seconds after the last is disposed; each keeps its own port and
/// address list. Calls wait for the first snapshot (bounded by their deadline
/// and at most 10 seconds) and fail fast with <c>Unavailable</c> and the reason when discovery fails before it or the
/// Service has no ready endpoint; later discovery failures keep the last known addresses. Pods whose calls fail are
/// ejected for a while (<see cref="OutlierDetectionOptions"/>); without <see cref="OutlierDetectionInterceptor"/> on the
/// client, only transport errors are seen (grpc-dotnet shows a policy no status the server sends).
/// </remarks>
public sealed class KubernetesResolverFactory : ResolverFactory
{
    internal const string Scheme = "k8s";

    private readonly Func<DiscoveryConfig, IDiscoveryObservable>? _observe;
    private readonly KubernetesLoadBalancingOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly IKubernetes? _client;

    /// <summary>Creates a factory that uses Kubernetes EndpointSlice discovery.</summary>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults. They are read when each resolver is
    /// created; invalid settings throw then, naming the field.</param>
    public KubernetesResolverFactory(KubernetesLoadBalancingOptions? options = null)
        : this(options, loggerFactory: null, client: null)
    {
    }

    /// <summary>Creates a factory with its own discovery source (for example one sharing a Kubernetes client, or a
    /// fake in tests). It takes precedence over <see cref="KubernetesLoadBalancingOptions.Observe"/>.</summary>
    /// <param name="observe">Creates the discovery source for an address's configuration.</param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    public KubernetesResolverFactory(Func<DiscoveryConfig, IDiscoveryObservable> observe, KubernetesLoadBalancingOptions? options = null)
        : this(options)
    {
        ArgumentNullException.ThrowIfNull(observe);
        _observe = observe;
    }

    /// <summary>The factory registered by <c>AddKubernetesLoadBalancing</c>: the logger factory and Kubernetes client
    /// come from the service provider when registered there and the options do not set their own.</summary>
    internal KubernetesResolverFactory(KubernetesLoadBalancingOptions? options, ILoggerFactory? loggerFactory, IKubernetes? client)
    {
        _options = options ?? new KubernetesLoadBalancingOptions();
        _loggerFactory = loggerFactory;
        _client = client;
    }

    /// <summary>How long calls may wait for the first snapshot; <see langword="null"/> for the resolver's default. Internal for testing.</summary>
    internal TimeSpan? FirstSnapshotWait { get; init; }

    /// <summary>The scheme, <c>k8s</c>.</summary>
    public override string Name => Scheme;

    /// <summary>
    /// The source used when neither the constructor nor <see cref="KubernetesLoadBalancingOptions.Observe"/> gives one.
    /// </summary>
    internal static Func<DiscoveryConfig, IDiscoveryObservable> DefaultObserve { get; } = KubernetesDiscovery.Observe;

    /// <summary>Creates the resolver for a <c>k8s:///</c> address.</summary>
    /// <param name="options">The channel's resolver options.</param>
    /// <returns>The resolver.</returns>
    /// <exception cref="ArgumentException">The address does not follow
    /// <c>k8s:///service[.namespace[.svc[.cluster-domain]]][:port-number-or-name]</c>, or it has no port and
    /// <see cref="KubernetesLoadBalancingOptions.DefaultPort"/> is not set.</exception>
    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var loggerFactory = _options.LoggerFactory ?? _loggerFactory ?? options.LoggerFactory;
        var config = KubernetesAddress.Parse(options.Address, _options.DefaultPort, (service, ns, port) => CreateConfig(service, ns, port, loggerFactory));
        // Precedence: the constructor's source, the options' source, the service provider's client (unless the options
        // name a client configuration), a client of our own.
        var observe = _observe ?? _options.Observe ?? (_client is { } client && _options.ClientConfiguration is null ? c => KubernetesDiscovery.Observe(c, client) : DefaultObserve);
        // The resolver's and the applier's messages name the Service too (the source scopes its own).
        loggerFactory = new ServiceScopedLoggerFactory(loggerFactory, new ServiceLogScope(config.ServiceName, config.Namespace));
        var source = observe(config) ?? throw new InvalidOperationException($"The discovery source for {config} is null.");
        // A build of the options sees the metadata and runs again on its updates; the default sees the EndPoint only.
        var build = _options.Build;
        var serviceConfig = options.DisableServiceConfig ? null : _options.ServiceConfig;
        return new ChangeSinkResolver(
            options.Address.OriginalString,
            _options.Scheduler ?? TaskPoolScheduler.Default,
            serviceConfig,
            loggerFactory,
            resolver => build is null
                ? DiscoveryApplier.DiscoverCore(source, new ChangeSink(resolver), BalancerAddresses.Default, loggerFactory)
                : DiscoveryApplier.DiscoverCore(source, new ChangeSink(resolver), build, loggerFactory),
            firstSnapshotWait: FirstSnapshotWait,
            identity: new ServiceIdentity(config.ServiceName, config.Namespace),
            subject: config.Namespace is null ? $"Service '{config.ServiceName}'" : $"Service {config.Namespace}/{config.ServiceName}");
    }

    private DiscoveryConfig CreateConfig(string service, string? ns, ServicePort port, ILoggerFactory loggerFactory)
    {
        var config = new DiscoveryConfig(service, port) { Namespace = ns };
        _options.CopyTo(config);
        config.LoggerFactory = loggerFactory;
        config.Validate();
        return config;
    }
}
