using System.Reactive.Concurrency;
using k8s;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal.Sharing;

/// <summary>
/// What makes two subscriptions share one watch: the API server identity (<see cref="ApiIdentity"/>), the Service, the
/// namespace as configured (<see cref="DiscoveryConfig.Namespace"/>; with a user's client, resolved as the watch would
/// resolve it), and every setting the watch itself reads, so that the shared watch behaves exactly as each subscriber's
/// own would have. The projection settings (port, readiness, address family, debounce, health reporting) are not part
/// of it: every subscription projects the shared slices itself.
/// </summary>
internal sealed record SharedWatchKey(
    ApiIdentity Api,
    string Service,
    string? Namespace,
    BackoffOptions Backoff,
    TimeSpan WatchTimeout,
    TimeSpan IdleTimeout,
    int ListPageSize,
    bool StreamingLists,
    TimeSpan InitialEventsTimeout,
    IScheduler Scheduler,
    ILoggerFactory LoggerFactory,
    TimeSpan Linger)
{
    /// <summary>The key of <paramref name="config"/> and <paramref name="client"/> now: the API identity (with its own copy
    /// of the client configuration) is taken here, once, and the shared watch is configured from the key.</summary>
    public static SharedWatchKey Of(DiscoveryConfig config, IKubernetes? client) => new(
        ApiIdentity.Of(config, client),
        config.ServiceName,
        client is null ? config.Namespace : config.Namespace ?? config.ClientConfiguration?.Namespace ?? "default",
        config.Backoff,
        config.WatchTimeout,
        config.IdleTimeout,
        config.ListPageSize,
        config.StreamingLists,
        config.InitialEventsTimeout,
        config.EffectiveScheduler,
        config.EffectiveLoggerFactory,
        config.ShareLinger);
}
