using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Remembers, for a while, the addresses that left the set, so that one coming back after a short absence (a readiness
/// flap, a pod that failed its probe for a few seconds) is not mistaken for a new pod. Bounded in time and in size.
/// Not thread-safe: used under the balancer's lock.
/// </summary>
internal sealed class RecentAddresses(TimeSpan window, int capacity)
{
    private readonly Dictionary<DnsEndPoint, DateTimeOffset> _removedAt = [];

    public void Removed(DnsEndPoint endPoint, DateTimeOffset now)
    {
        if (_removedAt.Count >= capacity) Prune(now);
        if (_removedAt.Count >= capacity) return; // Everything is recent: forgetting one would be arbitrary; skip.
        _removedAt[endPoint] = now;
    }

    /// <summary>Whether the address left the set within the window (and forgets it: it is back now).</summary>
    public bool TakeRecentlyRemoved(DnsEndPoint endPoint, DateTimeOffset now) =>
        _removedAt.Remove(endPoint, out var at) && now - at <= window;

    private void Prune(DateTimeOffset now)
    {
        foreach (var (endPoint, at) in _removedAt.ToArray())
        {
            if (now - at > window) _removedAt.Remove(endPoint);
        }
    }
}
