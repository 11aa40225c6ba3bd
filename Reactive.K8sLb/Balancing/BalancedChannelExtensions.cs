using System.Net;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb;

/// <summary>Connects endpoint change streams to a <see cref="BalancedChannel"/>.</summary>
public static class BalancedChannelExtensions
{
    /// <summary>
    /// Subscribes to <paramref name="source"/> and applies its inserts and removes to the channel's address set.
    /// When the source is an <see cref="IDiscoveryObservable"/>, its <see cref="IDiscoveryObservable.Updates"/> are
    /// used instead: each update is applied as one step (one publish), synchronisation to an empty set is published,
    /// and failures before the first synchronisation make calls fail fast with <c>Unavailable</c> and the reason.
    /// A plain source has no status: its first change counts as synchronisation, and an error as a failure.
    /// </summary>
    /// <param name="source">The endpoint changes.</param>
    /// <param name="channel">The channel whose addresses follow the source.</param>
    /// <param name="build">Maps an endpoint to a balancer address. It is called once per inserted endpoint (a remove
    /// reuses that address); if it throws or returns <see langword="null"/>, that endpoint is skipped and logged (once)
    /// and discovery continues for every other one. <see langword="null"/> for the default: an <see cref="IPEndPoint"/> becomes
    /// <c>new BalancerAddress(ip.Address.ToString(), port)</c>, a <see cref="DnsEndPoint"/>
    /// <c>new BalancerAddress(host, port)</c>. A custom one can set attributes, for example
    /// <c>new BalancerAttributesKey&lt;string&gt;("HostOverride")</c> for TLS host names.</param>
    /// <returns>The subscription; disposing it stops the source subscription (for Kubernetes discovery: the watch).
    /// Disposing the channel disposes it too.</returns>
    /// <exception cref="ObjectDisposedException">The channel is disposed.</exception>
    public static IDisposable ApplyTo(this IObservable<Change<EndPoint>> source, BalancedChannel channel, Func<EndPoint, BalancerAddress>? build = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(channel);
        build ??= BalancerAddresses.Default;

        var subscription = new System.Reactive.Disposables.SingleAssignmentDisposable();
        var tracked = channel.Track(subscription);
        subscription.Disposable = source is IDiscoveryObservable discovery
            ? DiscoveryApplier.DiscoverCore(discovery, channel.Updates, build, channel.LoggerFactory)
            : DiscoveryApplier.ApplyChanges(source, channel.Updates, build, channel.LoggerFactory);
        return tracked;
    }
}
