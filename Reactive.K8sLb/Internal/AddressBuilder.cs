using System.Net;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Maps endpoint changes to address changes with a user's <c>build</c> function, for one subscription, and puts the
/// <see cref="KubernetesEndpoint"/> into each address's attributes under <see cref="KubernetesEndpoint.AttributeKey"/>
/// unless <c>build</c> set that attribute itself.
/// <para>
/// <c>build</c> is called once per inserted endpoint; a remove reuses the address built for the insert, so a build
/// that is not deterministic cannot leave a stale address behind. An <see cref="ChangeKind.Update"/> (new metadata,
/// same <see cref="EndPoint"/>) calls a <see cref="KubernetesEndpoint"/> build again and yields an Update of the
/// address; an <see cref="EndPoint"/> build sees nothing new, so its address is kept and only the attribute is
/// replaced (in a copy). A build that throws or returns <see langword="null"/> affects that endpoint only: it is
/// logged once, its insert and its later remove are both skipped, and it counts in <see cref="Skipped"/> while it is
/// in the set (a <see cref="KubernetesEndpoint"/> build is tried again on its next Update; one that fails on an Update
/// removes the endpoint's address). Not thread-safe: changes of one subscription arrive in order.
/// </para>
/// </summary>
internal sealed class AddressBuilder
{
    private readonly Func<KubernetesEndpoint, BalancerAddress> _build;
    private readonly bool _rebuildOnUpdate;
    private readonly ILogger _logger;
    private readonly Dictionary<EndPoint, Built> _built = [];
    private readonly HashSet<EndPoint> _failed = [];

    private AddressBuilder(Func<KubernetesEndpoint, BalancerAddress> build, bool rebuildOnUpdate, ILogger logger)
    {
        _build = build;
        _rebuildOnUpdate = rebuildOnUpdate;
        _logger = logger;
    }

    /// <summary>Endpoints currently in the set whose address could not be built.</summary>
    public int Skipped => _failed.Count;

    /// <summary>A builder for a build that sees only the <see cref="EndPoint"/>: called once per inserted endpoint.</summary>
    public static AddressBuilder ForEndPoints(Func<EndPoint, BalancerAddress> build, ILogger logger) =>
        new(endpoint => build(endpoint.EndPoint), rebuildOnUpdate: false, logger);

    /// <summary>A builder for a build that sees the metadata: called again for each Update.</summary>
    public static AddressBuilder ForEndpoints(Func<KubernetesEndpoint, BalancerAddress> build, ILogger logger) =>
        new(build, rebuildOnUpdate: true, logger);

    /// <summary>Maps one change of a plain stream (an endpoint without metadata) into <paramref name="output"/>.</summary>
    public void Map(Change<EndPoint> change, List<Change<BalancerAddress>> output)
    {
        if (change.Item is not null) Map(new Change<KubernetesEndpoint>(change.Kind, new KubernetesEndpoint(change.Item)), output);
    }

    /// <summary>Maps one change into <paramref name="output"/>: nothing when it must be skipped, two changes (a
    /// remove and an insert) when a rebuilt address has another <see cref="BalancerAddress.EndPoint"/>.</summary>
    public void Map(Change<KubernetesEndpoint> change, List<Change<BalancerAddress>> output)
    {
        var endpoint = change.Item;
        if (endpoint is null) return;
        var endPoint = endpoint.EndPoint;
        switch (change.Kind)
        {
            case ChangeKind.Remove:
                if (_failed.Remove(endPoint) || !_built.Remove(endPoint, out var removed)) return;
                output.Add(Change.Remove(removed.Address));
                return;

            case ChangeKind.Update when _built.TryGetValue(endPoint, out var previous):
                Update(endpoint, previous, output);
                return;

            case ChangeKind.Update when _failed.Contains(endPoint):
                // An EndPoint build would fail again; a KubernetesEndpoint build may succeed with the new metadata.
                if (!_rebuildOnUpdate || !TryBuild(endpoint, out var retried)) return;
                _failed.Remove(endPoint);
                _built[endPoint] = retried;
                output.Add(Change.Insert(retried.Address));
                return;

            default:
                // An Insert, or an Update of an endpoint this builder never saw (inserted before a filter let it through).
                if (_built.ContainsKey(endPoint) || _failed.Contains(endPoint)) return;
                if (!TryBuild(endpoint, out var built)) return;
                _built[endPoint] = built;
                output.Add(Change.Insert(built.Address));
                return;
        }
    }

    /// <summary>Maps a batch, keeping the order and dropping skipped changes.</summary>
    public Change<BalancerAddress>[] Map(IReadOnlyList<Change<KubernetesEndpoint>> changes)
    {
        var mapped = new List<Change<BalancerAddress>>(changes.Count);
        foreach (var change in changes) Map(change, mapped);
        return [.. mapped];
    }

    private void Update(KubernetesEndpoint endpoint, Built previous, List<Change<BalancerAddress>> output)
    {
        var endPoint = endpoint.EndPoint;
        if (_rebuildOnUpdate)
        {
            if (!TryBuild(endpoint, out var rebuilt))
            {
                _built.Remove(endPoint);
                output.Add(Change.Remove(previous.Address));
                return;
            }

            _built[endPoint] = rebuilt;
            if (!rebuilt.Address.EndPoint.Equals(previous.Address.EndPoint))
            {
                output.Add(Change.Remove(previous.Address));
                output.Add(Change.Insert(rebuilt.Address));
            }
            else if (!BalancerAddressComparer.SameAttributes(rebuilt.Address, previous.Address))
            {
                output.Add(Change.Update(rebuilt.Address));
            }

            return;
        }

        // The build saw only the EndPoint: its address stands; only the attribute we set follows the metadata.
        if (!previous.OwnsAttribute) return;
        var copy = new BalancerAddress(previous.Address.EndPoint);
        var attributes = (IDictionary<string, object?>)copy.Attributes;
        foreach (var (key, value) in (IReadOnlyDictionary<string, object?>)previous.Address.Attributes) attributes[key] = value;
        copy.Attributes.Set(KubernetesEndpoint.AttributeKey, endpoint);
        _built[endPoint] = previous with { Address = copy };
        output.Add(Change.Update(copy));
    }

    private bool TryBuild(KubernetesEndpoint endpoint, out Built built)
    {
        built = default;
        BalancerAddress? address;
        try
        {
            address = _build(endpoint);
        }
#pragma warning disable CA1031 // A user's build that throws must not stop discovery: it costs this endpoint only.
        catch (Exception error)
#pragma warning restore CA1031
        {
            Skip(endpoint.EndPoint, error);
            return false;
        }

        if (address is null)
        {
            Skip(endpoint.EndPoint, error: null);
            return false;
        }

        var owns = !address.Attributes.TryGetValue(KubernetesEndpoint.AttributeKey, out _);
        if (owns) address.Attributes.Set(KubernetesEndpoint.AttributeKey, endpoint);
        built = new Built(address, owns);
        return true;
    }

    private void Skip(EndPoint endPoint, Exception? error)
    {
        if (!_failed.Add(endPoint)) return;
        if (error is null) Log.BuildReturnedNull(_logger, endPoint);
        else Log.BuildFailed(_logger, error, endPoint);
    }

    /// <summary>An address built for an endpoint, and whether the endpoint attribute on it is ours to replace.</summary>
    private readonly record struct Built(BalancerAddress Address, bool OwnsAttribute);
}
