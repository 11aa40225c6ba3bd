using System.Net;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb;

/// <summary>
/// One step of a discovery subscription: the net changes to the endpoint set (possibly none) and the status after
/// them. A consumer that applies every update holds the current set; one that needs to know when the first snapshot
/// is complete reads <see cref="DiscoveryStatus.IsSynchronized"/>. The changes come in two views:
/// <see cref="EndpointChanges"/> with each endpoint's metadata (including <see cref="ChangeKind.Update"/> when only the
/// metadata changed), and <see cref="Changes"/> with the bare <see cref="EndPoint"/>s (inserts and removes only).
/// </summary>
public sealed class DiscoveryUpdate
{
    /// <summary>Creates an update from bare endpoints: each gets a <see cref="KubernetesEndpoint"/> without metadata
    /// in <see cref="EndpointChanges"/>. For endpoints with metadata (and <see cref="ChangeKind.Update"/>s), use
    /// <see cref="FromEndpointChanges(IReadOnlyList{Change{KubernetesEndpoint}}, DiscoveryStatus)"/>.</summary>
    /// <param name="changes">The net changes, in order: inserts and removes.</param>
    /// <param name="status">The status after the changes.</param>
    /// <exception cref="ArgumentException">A change is an <see cref="ChangeKind.Update"/> (an <see cref="EndPoint"/>
    /// cannot be updated), or its endpoint is <see langword="null"/>.</exception>
    public DiscoveryUpdate(IReadOnlyList<Change<EndPoint>> changes, DiscoveryStatus status)
    {
        ArgumentNullException.ThrowIfNull(changes);
        Status = status ?? throw new ArgumentNullException(nameof(status));
        var endpoints = new Change<KubernetesEndpoint>[changes.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var change = changes[i];
            if (change.Kind == ChangeKind.Update) throw new ArgumentException("An EndPoint change is an Insert or a Remove; use DiscoveryUpdate.FromEndpointChanges for updates.", nameof(changes));
            endpoints[i] = new(change.Kind, new KubernetesEndpoint(change.Item ?? throw new ArgumentException("A change's endpoint must not be null.", nameof(changes))));
        }

        Changes = changes;
        EndpointChanges = endpoints;
    }

    private DiscoveryUpdate(IReadOnlyList<Change<KubernetesEndpoint>> endpointChanges, IReadOnlyList<Change<EndPoint>> changes, DiscoveryStatus status)
    {
        EndpointChanges = endpointChanges;
        Changes = changes;
        Status = status;
    }

    // A factory, not a second constructor: that overload would make `new DiscoveryUpdate([], status)` ambiguous (CS0121)
    // for C# 12, the default language version of net8.0 projects.

    /// <summary>Creates an update from endpoints with their metadata.</summary>
    /// <param name="endpointChanges">The net changes, in order, keyed by <see cref="KubernetesEndpoint.EndPoint"/>:
    /// inserts, removes and <see cref="ChangeKind.Update"/>s.</param>
    /// <param name="status">The status after the changes.</param>
    /// <returns>The update; its <see cref="Changes"/> hold the inserts and removes as bare endpoints.</returns>
    /// <exception cref="ArgumentException">A change's endpoint is <see langword="null"/>.</exception>
    public static DiscoveryUpdate FromEndpointChanges(IReadOnlyList<Change<KubernetesEndpoint>> endpointChanges, DiscoveryStatus status) =>
        FromEndpointChanges(endpointChanges, status, source: null, eventTimestamp: 0);

    /// <summary>The library's own updates: <see cref="FromEndpointChanges(IReadOnlyList{Change{KubernetesEndpoint}}, DiscoveryStatus)"/>
    /// with the telemetry context.</summary>
    internal static DiscoveryUpdate FromEndpointChanges(IReadOnlyList<Change<KubernetesEndpoint>> endpointChanges, DiscoveryStatus status, DiscoveryInstance? source, long eventTimestamp)
    {
        ArgumentNullException.ThrowIfNull(endpointChanges);
        ArgumentNullException.ThrowIfNull(status);
        var changes = new List<Change<EndPoint>>(endpointChanges.Count);
        foreach (var change in endpointChanges)
        {
            if (change.Item is null) throw new ArgumentException("A change's endpoint must not be null.", nameof(endpointChanges));
            if (change.Kind != ChangeKind.Update) changes.Add(new(change.Kind, change.Item.EndPoint));
        }

        return new DiscoveryUpdate(endpointChanges, changes, status) { Source = source, EventTimestamp = eventTimestamp };
    }

    /// <summary>The net changes as bare endpoints, in order; empty for a status-only update. Only inserts and removes:
    /// an endpoint whose metadata changed stays the same <see cref="EndPoint"/> and does not appear here.</summary>
    public IReadOnlyList<Change<EndPoint>> Changes { get; }

    /// <summary>The net changes with each endpoint's metadata, in order: inserts, removes, and
    /// <see cref="ChangeKind.Update"/>s of endpoints that stay in the set with new metadata (zone, hints, node,
    /// hostname, conditions). Identity is <see cref="KubernetesEndpoint.EndPoint"/>.</summary>
    public IReadOnlyList<Change<KubernetesEndpoint>> EndpointChanges { get; }

    /// <summary>The status after the changes.</summary>
    public DiscoveryStatus Status { get; }

    /// <summary>The discovery that produced this update, when it is one of the library's; for the applier's telemetry.</summary>
    internal DiscoveryInstance? Source { get; private init; }

    /// <summary>When the earliest slice event behind <see cref="Changes"/> reached the pipeline
    /// (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); 0 when unknown. For the resolver's delay histogram.</summary>
    internal long EventTimestamp { get; private init; }

    /// <inheritdoc />
    public override string ToString() => $"[{string.Join(", ", EndpointChanges.Select(c => $"{c.Kind} {c.Item.EndPoint}"))}] ({Status})";
}

