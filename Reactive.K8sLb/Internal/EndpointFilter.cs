using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The state of one <c>Filter</c> subscription: which inserted endpoints passed, so that their removes (and only
/// theirs) pass too. Not thread-safe: updates of one subscription arrive in order.
/// </summary>
internal sealed class EndpointFilter(Func<EndPoint, bool> predicate)
{
    private readonly HashSet<EndPoint> _passed = [];

    public DiscoveryUpdate Apply(DiscoveryUpdate update)
    {
        var kept = new List<Change<EndPoint>>(update.Changes.Count);
        foreach (var change in update.Changes)
        {
            var pass = change.Kind == ChangeKind.Insert ? Test(change.Item) && _passed.Add(change.Item) : _passed.Remove(change.Item);
            if (pass) kept.Add(change);
        }

        return kept.Count == update.Changes.Count ? update : new DiscoveryUpdate(kept, update.Status);
    }

    private bool Test(EndPoint endPoint)
    {
        try
        {
            return predicate(endPoint);
        }
#pragma warning disable CA1031 // A user's filter that throws excludes that endpoint; it must not end discovery.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
