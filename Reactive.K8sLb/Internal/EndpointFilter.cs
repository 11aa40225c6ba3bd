using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The state of one <c>Filter</c> subscription: which inserted endpoints passed, so that their updates and removes
/// (and only theirs) pass too. Not thread-safe: updates of one subscription arrive in order.
/// </summary>
internal sealed class EndpointFilter(Func<EndPoint, bool> predicate)
{
    private readonly HashSet<EndPoint> _passed = [];

    public DiscoveryUpdate Apply(DiscoveryUpdate update)
    {
        var changes = update.EndpointChanges;
        var kept = new List<Change<KubernetesEndpoint>>(changes.Count);
        foreach (var change in changes)
        {
            var endPoint = change.Item.EndPoint;
            var pass = change.Kind switch
            {
                ChangeKind.Insert => Test(endPoint) && _passed.Add(endPoint),
                ChangeKind.Update => _passed.Contains(endPoint),
                _ => _passed.Remove(endPoint),
            };
            if (pass) kept.Add(change);
        }

        return kept.Count == changes.Count
            ? update
            : DiscoveryUpdate.FromEndpointChanges(kept, update.Status, update.Source, kept.Count > 0 ? update.EventTimestamp : 0);
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
