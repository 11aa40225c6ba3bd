using System.Globalization;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.HealthChecking;

namespace Reactive.K8sLb;

/// <summary>
/// A gRPC channel balanced over an address set that you drive with changes: apply a discovery source with
/// <see cref="BalancedChannelExtensions.ApplyTo(IDiscoveryObservable, BalancedChannel, Func{System.Net.EndPoint, BalancerAddress})"/>, or push <see cref="Change{T}"/>s of <see cref="BalancerAddress"/>
/// into <see cref="Updates"/>. Use it like any channel: <c>new Greeter.GreeterClient(channel)</c>.
/// </summary>
/// <remarks>
/// Every call ends by its deadline or earlier with <see cref="StatusCode.Unavailable"/> and the reason. With the
/// default policy (<see cref="NewestFirstRoundRobinConfig"/>): calls wait for the first synchronisation (the first
/// complete snapshot of a discovery source, or the first change pushed into <see cref="Updates"/>), bounded by their
/// deadline and by at most 10 seconds; if discovery fails before that, they fail fast with the reason; once
/// synchronized, discovery failures keep the last known addresses; an empty set fails calls with the reason (for
/// example "no ready endpoints for Service ns/name") and closes the connections to the old addresses; disposing the
/// channel ends the calls still waiting. With grpc-dotnet's <see cref="RoundRobinConfig"/> calls before the first
/// synchronisation fail at once with "Waiting for the first snapshot ...", and an empty set is ignored while the
/// channel is Ready (grpc/grpc-dotnet#1860). The resolver always reports the full set, conflating bursts into one
/// update of the channel. The default policy ejects, for a while, a pod whose calls fail while it is listed ready
/// (<see cref="OutlierDetectionOptions"/>); the channel's call invoker reports every call's final status to it. With
/// <see cref="BalancingPolicyConfig.HealthCheck"/> on, it also watches each ready pod's <c>grpc.health.v1</c>
/// health service over the pod's connection and sends no calls to a pod that is not SERVING
/// (<see cref="ActiveHealthCheckOptions"/>).
/// </remarks>
public sealed class BalancedChannel : ChannelBase, IDisposable
{
    private static long s_nextId;

    private readonly object _gate = new();
    private readonly List<IDisposable> _subscriptions = [];
    private readonly ChangeSink _sink;
    private bool _disposed;

    private readonly bool _reportOutcomes;

    private BalancedChannel(string target, GrpcChannel channel, ChangeSinkResolver resolver, ILoggerFactory loggerFactory, bool reportOutcomes)
        : base(target)
    {
        _reportOutcomes = reportOutcomes;
        Channel = channel;
        Resolver = resolver;
        LoggerFactory = loggerFactory;
        _sink = new ChangeSink(resolver);
    }

    /// <summary>The underlying balanced channel (for <c>ConnectAsync</c>, <c>State</c> and the like).</summary>
    public GrpcChannel Channel { get; }

    /// <summary>
    /// Receives address changes (tonic-lb-k8s's <c>tx</c>). The first change counts as synchronisation. An error
    /// notification counts as a discovery failure (calls fail fast if never synchronized); completion keeps the
    /// current set. Several sources may feed it; notifications after a terminal one are still applied.
    /// </summary>
    public IObserver<Change<BalancerAddress>> Updates => _sink;

    internal ChangeSinkResolver Resolver { get; }

    /// <summary>The channel options' logger factory (for the applier's warnings).</summary>
    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>
    /// Creates a balanced channel. Unless <paramref name="options"/> say otherwise it uses round robin with newly ready
    /// pods served first (<see cref="NewestFirstRoundRobinConfig"/>; grpc-dotnet's <see cref="RoundRobinConfig"/> is
    /// available through the options' service config), <see cref="ChannelCredentials.Insecure"/> and a <see cref="SocketsHttpHandler"/>
    /// with <see cref="SocketsHttpHandler.EnableMultipleHttp2Connections"/>, infinite pooled-connection idle timeout and
    /// HTTP/2 keep-alive pings every 20 seconds with a 10 second timeout while requests are active
    /// (<see cref="HttpKeepAlivePingPolicy.WithActiveRequests"/>: dead pods are detected during calls, and servers
    /// that punish idle pings, such as grpc-go's default enforcement policy, do not send GOAWAY "too_many_pings").
    /// A user <see cref="GrpcChannelOptions.ServiceProvider"/> is kept: its services and resolver factories remain
    /// available. The options object itself is not modified.
    /// </summary>
    /// <param name="options">Channel options, or <see langword="null"/> for the defaults above.</param>
    /// <returns>The channel; dispose it to close connections and stop everything applied to it.</returns>
    /// <exception cref="ArgumentException">The options set <see cref="GrpcChannelOptions.HttpClient"/>: load balancing needs a
    /// <see cref="SocketsHttpHandler"/> through <see cref="GrpcChannelOptions.HttpHandler"/>.</exception>
    public static BalancedChannel Create(GrpcChannelOptions? options = null) => Create(options, TaskPoolScheduler.Default);

    /// <summary>Creates a channel that publishes on <paramref name="scheduler"/>. Internal for testing.</summary>
    internal static BalancedChannel Create(GrpcChannelOptions? options, IScheduler scheduler, TimeSpan? firstSnapshotWait = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        if (options?.HttpClient is not null)
        {
            throw new ArgumentException("A BalancedChannel needs a SocketsHttpHandler (GrpcChannelOptions.HttpHandler), not an HttpClient.", nameof(options));
        }

        var id = Interlocked.Increment(ref s_nextId).ToString(CultureInfo.InvariantCulture);
        var target = $"{SinkResolverFactory.Scheme}://{id}";
        var loggerFactory = options?.LoggerFactory ?? NullLoggerFactory.Instance;
        var resolver = new ChangeSinkResolver(target, scheduler, serviceConfig: null, loggerFactory, subject: $"balanced channel {target}", firstSnapshotWait: firstSnapshotWait);
        var channelOptions = Copy(options);
        channelOptions.ServiceConfig ??= NewestFirstRoundRobinConfig.DefaultServiceConfig();
        channelOptions.Credentials ??= ChannelCredentials.Insecure;
        if (channelOptions.HttpHandler is null)
        {
            channelOptions.HttpHandler = CreateHandler();
            channelOptions.DisposeHttpClient = true;
        }

        // The channel's own policy factory: its balancers send their health checks through this channel.
        var healthChannel = new HealthCheckChannel();
        channelOptions.ServiceProvider = new CompositeServiceProvider(new SinkResolverFactory(resolver), options?.ServiceProvider, [new NewestFirstRoundRobinBalancerFactory(healthChannel), new LeastRequestBalancerFactory(healthChannel), new PeakEwmaBalancerFactory(healthChannel)]);
        var channel = GrpcChannel.ForAddress(new Uri(target), channelOptions);
        healthChannel.Invoker = channel.CreateCallInvoker();
        return new BalancedChannel(target, channel, resolver, loggerFactory, reportOutcomes: !RetriesOrHedges(channelOptions.ServiceConfig));
    }

    /// <summary>Disposes everything subscribed through <see cref="BalancedChannelExtensions.ApplyTo(IDiscoveryObservable, BalancedChannel, Func{System.Net.EndPoint, BalancerAddress})"/> (so watches
    /// stop), then the underlying channel.</summary>
    public void Dispose()
    {
        IDisposable[] subscriptions;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
        }

        foreach (var subscription in subscriptions) subscription.Dispose();
        Channel.Dispose();
    }

    /// <summary>
    /// Creates the invoker clients call through. It reports every call's final status (unary and streaming) to the
    /// endpoint that served it, for outlier ejection (<see cref="OutlierDetectionOptions"/>); calls made directly on
    /// <see cref="Channel"/> are seen only as far as grpc-dotnet shows the policy (transport errors). With a retry or
    /// hedging policy in the service config, a call's final status may come from another endpoint than its first
    /// attempt, so only the per-attempt view is used.
    /// </summary>
    /// <returns>The invoker.</returns>
    public override CallInvoker CreateCallInvoker() => _reportOutcomes ? new OutcomeCallInvoker(Channel.CreateCallInvoker()) : Channel.CreateCallInvoker();

    /// <summary>Ties a subscription's lifetime to the channel; disposes it at once when the channel is disposed.</summary>
    /// <param name="subscription">The subscription.</param>
    /// <returns>A handle that disposes the subscription and forgets it.</returns>
    internal IDisposable Track(IDisposable subscription)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _subscriptions.Add(subscription);
                return new Tracked(this, subscription);
            }
        }

        subscription.Dispose();
        throw new ObjectDisposedException(nameof(BalancedChannel));
    }

    /// <inheritdoc />
    protected override Task ShutdownAsyncCore()
    {
        Dispose();
        return Task.CompletedTask;
    }

    private void Untrack(IDisposable subscription)
    {
        lock (_gate) _subscriptions.Remove(subscription);
    }

    private static bool RetriesOrHedges(ServiceConfig? config) =>
        config?.MethodConfigs.Any(m => m.RetryPolicy is not null || m.HedgingPolicy is not null) == true;

    private static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        KeepAlivePingDelay = TimeSpan.FromSeconds(20),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
    };

    private static GrpcChannelOptions Copy(GrpcChannelOptions? o)
    {
        var copy = new GrpcChannelOptions();
        if (o is null) return copy;
        copy.Credentials = o.Credentials;
        copy.MaxSendMessageSize = o.MaxSendMessageSize;
        copy.MaxReceiveMessageSize = o.MaxReceiveMessageSize;
        copy.MaxRetryAttempts = o.MaxRetryAttempts;
        copy.MaxRetryBufferSize = o.MaxRetryBufferSize;
        copy.MaxRetryBufferPerCallSize = o.MaxRetryBufferPerCallSize;
        copy.CompressionProviders = o.CompressionProviders;
        copy.LoggerFactory = o.LoggerFactory;
        copy.HttpHandler = o.HttpHandler;
        copy.DisposeHttpClient = o.DisposeHttpClient;
        copy.ThrowOperationCanceledOnCancellation = o.ThrowOperationCanceledOnCancellation;
        copy.UnsafeUseInsecureChannelCallCredentials = o.UnsafeUseInsecureChannelCallCredentials;
        copy.ServiceConfig = o.ServiceConfig;
        copy.DisableResolverServiceConfig = o.DisableResolverServiceConfig;
        copy.HttpVersion = o.HttpVersion;
        copy.HttpVersionPolicy = o.HttpVersionPolicy;
        copy.InitialReconnectBackoff = o.InitialReconnectBackoff;
        copy.MaxReconnectBackoff = o.MaxReconnectBackoff;
        return copy;
    }

    private sealed class Tracked(BalancedChannel owner, IDisposable subscription) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            owner.Untrack(subscription);
            subscription.Dispose();
        }
    }
}
