using System.Net;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb;

/// <summary>Connects endpoint change streams to a <see cref="BalancedChannel"/>.</summary>
public static class BalancedChannelExtensions
{
    /// <summary>
    /// Subscribes to a discovery source and applies its updates to the channel's address set: each update is applied as
    /// one step (one publish) together with its status, so the channel knows when the first snapshot is complete (even
    /// an empty one) and calls fail fast with <c>Unavailable</c> and the reason while discovery fails before it or the
    /// set is empty. Status-keeping operators (<c>Filter</c>, <c>Share</c> in <c>Reactive.K8sLb.Linq</c>) keep this
    /// overload; plain Rx operators give a plain change stream and the other overload.
    /// </summary>
    /// <param name="source">The discovery source, e.g. <see cref="KubernetesDiscovery.Observe(DiscoveryConfig)"/>.</param>
    /// <param name="channel">The channel whose addresses follow the source.</param>
    /// <param name="build">Maps an endpoint to a balancer address. It is called once per inserted endpoint (a remove
    /// reuses that address); if it throws or returns <see langword="null"/>, that endpoint is skipped and logged (once)
    /// and discovery continues for every other one. <see langword="null"/> for the default: an <see cref="IPEndPoint"/>
    /// becomes <c>new BalancerAddress(ip.Address.ToString(), port)</c>, a <see cref="DnsEndPoint"/>
    /// <c>new BalancerAddress(host, port)</c>. A custom one can set attributes, for example
    /// <c>new BalancerAttributesKey&lt;string&gt;("HostOverride")</c> for TLS host names.</param>
    /// <returns>The subscription; disposing it stops the source subscription (for Kubernetes discovery: the watch).
    /// Disposing the channel disposes it too.</returns>
    /// <exception cref="ObjectDisposedException">The channel is disposed.</exception>
    /// <remarks>Every address gets the endpoint's <see cref="KubernetesEndpoint"/> in its attributes under
    /// <see cref="KubernetesEndpoint.AttributeKey"/>, unless <paramref name="build"/> set that key itself; when only the
    /// metadata of an endpoint changes, <paramref name="build"/> is not called again, the address is kept and that
    /// attribute follows (the channel keeps the connection). For a build that sees the metadata, use
    /// <see cref="ApplyWithMetadataTo(IDiscoveryObservable, BalancedChannel, Func{KubernetesEndpoint, BalancerAddress})"/>.</remarks>
    public static IDisposable ApplyTo(this IDiscoveryObservable source, BalancedChannel channel, Func<EndPoint, BalancerAddress>? build = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(channel);
        return Track(channel, () => DiscoveryApplier.DiscoverCore(source, channel.Updates, build ?? BalancerAddresses.Default, channel.LoggerFactory));
    }

    /// <summary>
    /// Like <see cref="ApplyTo(IDiscoveryObservable, BalancedChannel, Func{EndPoint, BalancerAddress})"/>, with a
    /// <paramref name="build"/> that sees what the EndpointSlice says about each endpoint (pod, node, zone, conditions,
    /// hints), for example to set a per-pod TLS host override or a zone attribute of your own.
    /// </summary>
    /// <remarks>A name of its own, not an <c>ApplyTo</c> overload: with both, a lambda such as <c>e => ...</c> would be
    /// ambiguous for C# 12 (the default language version of net8.0 projects).</remarks>
    /// <param name="source">The discovery source.</param>
    /// <param name="channel">The channel whose addresses follow the source.</param>
    /// <param name="build">Maps an endpoint to a balancer address. It is called once per inserted endpoint and again
    /// when the endpoint's metadata changes while it stays in the set (the resulting address replaces the old one
    /// under the same <c>EndPoint</c>: the channel keeps the connection). If it throws or returns
    /// <see langword="null"/>, that endpoint is skipped and logged (once) and discovery continues for every other one.
    /// The address gets the <see cref="KubernetesEndpoint"/> under <see cref="KubernetesEndpoint.AttributeKey"/> unless
    /// <paramref name="build"/> set that key itself.</param>
    /// <returns>The subscription; disposing it stops the source subscription. Disposing the channel disposes it too.</returns>
    /// <exception cref="ObjectDisposedException">The channel is disposed.</exception>
    public static IDisposable ApplyWithMetadataTo(this IDiscoveryObservable source, BalancedChannel channel, Func<KubernetesEndpoint, BalancerAddress> build)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(build);
        return Track(channel, () => DiscoveryApplier.DiscoverCore(source, channel.Updates, build, channel.LoggerFactory));
    }

    /// <summary>
    /// Subscribes to a plain change stream and applies its inserts and removes to the channel's address set. A plain
    /// stream has no status: its first change counts as synchronisation, and an error as a failure (calls fail fast if
    /// no change ever arrived).
    /// </summary>
    /// <param name="source">The endpoint changes.</param>
    /// <param name="channel">The channel whose addresses follow the source.</param>
    /// <param name="build">Maps an endpoint to a balancer address, as in the other overload.</param>
    /// <returns>The subscription; disposing it stops the source subscription. Disposing the channel disposes it too.</returns>
    /// <exception cref="ObjectDisposedException">The channel is disposed.</exception>
    public static IDisposable ApplyTo(this IObservable<Change<EndPoint>> source, BalancedChannel channel, Func<EndPoint, BalancerAddress>? build = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(channel);
        return Track(channel, () => DiscoveryApplier.ApplyChanges(source, channel.Updates, build ?? BalancerAddresses.Default, channel.LoggerFactory));
    }

    private static IDisposable Track(BalancedChannel channel, Func<IDisposable> subscribe)
    {
        var subscription = new System.Reactive.Disposables.SingleAssignmentDisposable();
        var tracked = channel.Track(subscription);
        subscription.Disposable = subscribe();
        return tracked;
    }
}
