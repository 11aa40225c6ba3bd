using System.Net;
using System.Runtime.CompilerServices;
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
    /// in <see cref="EndpointChanges"/>.</summary>
    /// <param name="changes">The net changes, in order: inserts and removes.</param>
    /// <param name="status">The status after the changes.</param>
    /// <exception cref="ArgumentException">A change is an <see cref="ChangeKind.Update"/> (an <see cref="EndPoint"/>
    /// cannot be updated), or its endpoint is <see langword="null"/>.</exception>
    [OverloadResolutionPriority(1)]
    public DiscoveryUpdate(IReadOnlyList<Change<EndPoint>> changes, DiscoveryStatus status)
    {
        ArgumentNullException.ThrowIfNull(changes);
        Status = status ?? throw new ArgumentNullException(nameof(status));
        var endpoints = new Change<KubernetesEndpoint>[changes.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var change = changes[i];
            if (change.Kind == ChangeKind.Update) throw new ArgumentException("An EndPoint change is an Insert or a Remove; use the KubernetesEndpoint constructor for updates.", nameof(changes));
            endpoints[i] = new(change.Kind, new KubernetesEndpoint(change.Item ?? throw new ArgumentException("A change's endpoint must not be null.", nameof(changes))));
        }

        Changes = changes;
        EndpointChanges = endpoints;
    }

    /// <summary>Creates an update from endpoints with their metadata.</summary>
    /// <param name="endpointChanges">The net changes, in order, keyed by <see cref="KubernetesEndpoint.EndPoint"/>.</param>
    /// <param name="status">The status after the changes.</param>
    /// <exception cref="ArgumentException">A change's endpoint is <see langword="null"/>.</exception>
    public DiscoveryUpdate(IReadOnlyList<Change<KubernetesEndpoint>> endpointChanges, DiscoveryStatus status)
    {
        ArgumentNullException.ThrowIfNull(endpointChanges);
        Status = status ?? throw new ArgumentNullException(nameof(status));
        var changes = new List<Change<EndPoint>>(endpointChanges.Count);
        foreach (var change in endpointChanges)
        {
            if (change.Item is null) throw new ArgumentException("A change's endpoint must not be null.", nameof(endpointChanges));
            if (change.Kind != ChangeKind.Update) changes.Add(new(change.Kind, change.Item.EndPoint));
        }

        EndpointChanges = endpointChanges;
        Changes = changes;
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
    internal DiscoveryInstance? Source { get; init; }

    /// <summary>When the earliest slice event behind <see cref="Changes"/> reached the pipeline
    /// (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); 0 when unknown. For the resolver's delay histogram.</summary>
    internal long EventTimestamp { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"[{string.Join(", ", EndpointChanges.Select(c => $"{c.Kind} {c.Item.EndPoint}"))}] ({Status})";
}

