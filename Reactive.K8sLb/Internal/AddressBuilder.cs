using System.Net;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Maps endpoint changes to address changes with a user's <c>build</c> function, for one subscription. <c>build</c> is
/// called once per inserted endpoint; a remove reuses the address built for the insert, so a build that is not
/// deterministic cannot leave a stale address behind. A build that throws or returns <see langword="null"/> affects
/// that endpoint only: it is logged once, its insert and its later remove are both skipped, and it counts in
/// <see cref="Skipped"/> while it is in the set. Not thread-safe: changes of one subscription arrive in order.
/// </summary>
internal sealed class AddressBuilder(Func<EndPoint, BalancerAddress> build, ILogger logger)
{
    private readonly Dictionary<EndPoint, BalancerAddress> _built = [];
    private readonly HashSet<EndPoint> _failed = [];

    /// <summary>Endpoints currently in the set whose address could not be built.</summary>
    public int Skipped => _failed.Count;

    /// <summary>Maps one change; <see langword="false"/> when it must be skipped.</summary>
    public bool TryMap(Change<EndPoint> change, out Change<BalancerAddress> mapped)
    {
        mapped = default;
        var endPoint = change.Item;
        if (endPoint is null) return false;
        if (change.Kind == ChangeKind.Remove)
        {
            if (_failed.Remove(endPoint) || !_built.Remove(endPoint, out var removed)) return false;
            mapped = Change.Remove(removed);
            return true;
        }

        if (_built.ContainsKey(endPoint) || _failed.Contains(endPoint)) return false;
        BalancerAddress? address;
        try
        {
            address = build(endPoint);
        }
#pragma warning disable CA1031 // A user's build that throws must not stop discovery: it costs this endpoint only.
        catch (Exception error)
#pragma warning restore CA1031
        {
            Skip(endPoint, error);
            return false;
        }

        if (address is null)
        {
            Skip(endPoint, error: null);
            return false;
        }

        _built[endPoint] = address;
        mapped = Change.Insert(address);
        return true;
    }

    /// <summary>Maps a batch, keeping the order and dropping skipped changes.</summary>
    public Change<BalancerAddress>[] Map(IReadOnlyList<Change<EndPoint>> changes)
    {
        var mapped = new List<Change<BalancerAddress>>(changes.Count);
        foreach (var change in changes)
        {
            if (TryMap(change, out var one)) mapped.Add(one);
        }

        return [.. mapped];
    }

    private void Skip(EndPoint endPoint, Exception? error)
    {
        _failed.Add(endPoint);
        if (error is null) Log.BuildReturnedNull(logger, endPoint);
        else Log.BuildFailed(logger, error, endPoint);
    }
}
