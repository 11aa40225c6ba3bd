using System.Net;
using Grpc.Net.Client.Balancer;
using k8s;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Sharing;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb;

/// <summary>
/// Discovers the ready endpoints of a Kubernetes Service by watching its EndpointSlices.
/// </summary>
public static partial class KubernetesDiscovery
{
    /// <summary>
    /// Watches the Service's EndpointSlices and emits the net changes of its endpoint set. Nothing happens until
    /// subscription. Subscriptions in the process that watch the same Service through the same API server with the same
    /// watch settings share one LIST+WATCH and one client (see <see cref="DiscoveryOptions.ShareWatch"/>): a
    /// subscription that joins a running watch gets the current endpoints and status at once, and the watch stops
    /// 5 seconds after the last subscription is disposed; each subscription still projects the slices with its own
    /// port, policies and debounce. With <see cref="DiscoveryOptions.ShareWatch"/> off, each subscription has its own
    /// client and watch, and disposing it cancels the watch. The stream
    /// never completes or fails on its own: API failures are retried with jittered exponential backoff (401/403/404
    /// starting from 1 second and logged at error level once per streak with the server's message; a 429 or 503 waits
    /// at least its Retry-After, up to <see cref="BackoffOptions.Maximum"/>), the last known endpoints stay in force
    /// meanwhile, and the status (synchronized, failing and why, including a watch that has gone silent) is available
    /// through <see cref="IDiscoveryObservable.Updates"/>.
    /// </summary>
    /// <param name="config">What to discover; <see cref="DiscoveryOptions.ClientConfiguration"/> says how to reach the API.</param>
    /// <returns>The endpoint changes, with status through <see cref="IDiscoveryObservable.Updates"/>.</returns>
    public static IDiscoveryObservable Observe(DiscoveryConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return Create(config, client: null);
    }

    /// <summary>
    /// Like <see cref="Observe(DiscoveryConfig)"/>, using an existing client, which is not disposed. Shared watches are
    /// keyed by that client instance: subscriptions on the same client (and Service, namespace and watch settings)
    /// share one watch; another client instance, even with the same configuration, gets a watch of its own. The namespace is
    /// <see cref="DiscoveryConfig.Namespace"/>, else the namespace of <see cref="DiscoveryOptions.ClientConfiguration"/>,
    /// else <c>default</c>. After a failure, the status turns healthy again with the watch's first event or bookmark
    /// (a client created by the library reports it as soon as the watch's response headers arrive).
    /// </summary>
    /// <param name="config">What to discover.</param>
    /// <param name="client">The Kubernetes client to use.</param>
    /// <returns>The endpoint changes, with status through <see cref="IDiscoveryObservable.Updates"/>.</returns>
    public static IDiscoveryObservable Observe(DiscoveryConfig config, IKubernetes client)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(client);
        config.Validate();
        return Create(config, client);
    }

    /// <summary>
    /// The analogue of tonic-lb-k8s's <c>discover(config, tx, build)</c>: watches the Service and sends every endpoint
    /// change, mapped by <paramref name="build"/>, to <paramref name="tx"/>. When <paramref name="tx"/> is a
    /// <see cref="BalancedChannel.Updates"/>, each update is applied atomically together with the discovery status,
    /// so calls wait for the first snapshot and fail fast with the reason while discovery cannot start.
    /// </summary>
    /// <param name="config">What to discover.</param>
    /// <param name="tx">Where the changes go, e.g. <see cref="BalancedChannel.Updates"/>: inserts, removes, and updates
    /// when an endpoint's metadata changes (see the remarks).</param>
    /// <param name="build">Maps an endpoint to a balancer address (and its attributes, such as a TLS host override). An
    /// endpoint for which it throws or returns <see langword="null"/> is skipped and logged; discovery continues. An
    /// exception thrown by <paramref name="tx"/> is logged and does not stop discovery.</param>
    /// <returns>Dispose to stop the watch.</returns>
    /// <remarks><paramref name="tx"/> receives <see cref="ChangeKind.Insert"/>, <see cref="ChangeKind.Remove"/> and also
    /// <see cref="ChangeKind.Update"/>: when only an endpoint's metadata changes (zone, node, conditions, hints),
    /// <paramref name="build"/> is not called again, but the address is sent again as an Update with the new
    /// <see cref="KubernetesEndpoint"/> under <see cref="KubernetesEndpoint.AttributeKey"/> (unless
    /// <paramref name="build"/> set that key itself). The endpoint is still in the set: an observer that treats every
    /// change that is not an Insert as a Remove would drop a live endpoint. For a build that sees the metadata, use
    /// <see cref="DiscoverWithMetadata(DiscoveryConfig, IObserver{Change{BalancerAddress}}, Func{KubernetesEndpoint, BalancerAddress})"/>.</remarks>
    public static IDisposable Discover(DiscoveryConfig config, IObserver<Change<BalancerAddress>> tx, Func<EndPoint, BalancerAddress> build)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(build);
        // The source's own scope (which learns the namespace from the client) goes onto the applier's messages.
        return DiscoveryApplier.DiscoverCore(Observe(config), tx, build, config.EffectiveLoggerFactory);
    }

    /// <summary>
    /// Like <see cref="Discover(DiscoveryConfig, IObserver{Change{BalancerAddress}}, Func{EndPoint, BalancerAddress})"/>,
    /// with a <paramref name="build"/> that sees each endpoint's metadata. <paramref name="tx"/> receives a
    /// <see cref="ChangeKind.Update"/> of the address when an endpoint's metadata changes while it stays in the set
    /// (<paramref name="build"/> is called again for it; a Remove and an Insert when the new address has another
    /// <c>EndPoint</c>, a Remove when <paramref name="build"/> now fails for it).
    /// </summary>
    /// <remarks>A name of its own, not a <c>Discover</c> overload: with both, a lambda such as <c>e => ...</c> would be
    /// ambiguous for C# 12 (the default language version of net8.0 projects).</remarks>
    /// <param name="config">What to discover.</param>
    /// <param name="tx">Where the changes go, e.g. <see cref="BalancedChannel.Updates"/>.</param>
    /// <param name="build">Maps an endpoint to a balancer address. An endpoint for which it throws or returns
    /// <see langword="null"/> is skipped and logged; discovery continues.</param>
    /// <returns>Dispose to stop the watch.</returns>
    public static IDisposable DiscoverWithMetadata(DiscoveryConfig config, IObserver<Change<BalancerAddress>> tx, Func<KubernetesEndpoint, BalancerAddress> build)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(build);
        return DiscoveryApplier.DiscoverCore(Observe(config), tx, build, config.EffectiveLoggerFactory);
    }

    /// <summary>
    /// Watches the Service and keeps <paramref name="channel"/>'s addresses equal to its ready endpoints, for as long as
    /// the channel lives (the same as <c>Observe(config).ApplyTo(channel, build)</c>): disposing the channel stops the
    /// watch too.
    /// </summary>
    /// <param name="config">What to discover.</param>
    /// <param name="channel">The channel to feed.</param>
    /// <param name="build">Maps an endpoint to a balancer address, or <see langword="null"/> for the default; see
    /// <see cref="BalancedChannelExtensions.ApplyTo(IDiscoveryObservable, BalancedChannel, Func{EndPoint, BalancerAddress})"/>.</param>
    /// <returns>Dispose to stop the watch before the channel is disposed.</returns>
    /// <exception cref="ObjectDisposedException">The channel is disposed.</exception>
    /// <remarks>For a build that sees the metadata, use
    /// <see cref="DiscoverWithMetadata(DiscoveryConfig, BalancedChannel, Func{KubernetesEndpoint, BalancerAddress})"/>.</remarks>
    public static IDisposable Discover(DiscoveryConfig config, BalancedChannel channel, Func<EndPoint, BalancerAddress>? build = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(channel);
        return Observe(config).ApplyTo(channel, build);
    }

    /// <summary>
    /// Like <see cref="Discover(DiscoveryConfig, BalancedChannel, Func{EndPoint, BalancerAddress})"/>, with a
    /// <paramref name="build"/> that sees each endpoint's metadata; see
    /// <see cref="BalancedChannelExtensions.ApplyWithMetadataTo(IDiscoveryObservable, BalancedChannel, Func{KubernetesEndpoint, BalancerAddress})"/>
    /// (the same as <c>Observe(config).ApplyWithMetadataTo(channel, build)</c>).
    /// </summary>
    /// <param name="config">What to discover.</param>
    /// <param name="channel">The channel to feed.</param>
    /// <param name="build">Maps an endpoint to a balancer address.</param>
    /// <returns>Dispose to stop the watch before the channel is disposed.</returns>
    /// <exception cref="ObjectDisposedException">The channel is disposed.</exception>
    public static IDisposable DiscoverWithMetadata(DiscoveryConfig config, BalancedChannel channel, Func<KubernetesEndpoint, BalancerAddress> build)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(build);
        return Observe(config).ApplyWithMetadataTo(channel, build);
    }

    private static DiscoveryObservable Create(DiscoveryConfig config, IKubernetes? client)
    {
        // One scope per source: every message of its watch and pipeline names the Service and namespace.
        var loggers = config.CreateScopedLoggerFactory();

        // Shared: the slices and the watch's health come from the one watch of this Service in the process (the watch
        // logs in a scope of its own); the projection, debounce and status below stay this subscription's own.
        var signals = config.ShareWatch ? SharedWatches.Signals(config, client) : EndpointSliceWatcher.Signals(config, client, loggers);
        return new(DiscoveryPipeline.ToUpdates(signals, config, loggers), loggers);
    }
}
