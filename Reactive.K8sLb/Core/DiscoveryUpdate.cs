using System.Net;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb;

/// <summary>
/// One step of a discovery subscription: the net changes to the endpoint set (possibly none) and the status after
/// them. A consumer that applies every update holds the current set; one that needs to know when the first snapshot
/// is complete reads <see cref="DiscoveryStatus.IsSynchronized"/>.
/// </summary>
public sealed class DiscoveryUpdate
{
    /// <summary>Creates an update.</summary>
    /// <param name="changes">The net changes, in order.</param>
    /// <param name="status">The status after the changes.</param>
    public DiscoveryUpdate(IReadOnlyList<Change<EndPoint>> changes, DiscoveryStatus status)
    {
        Changes = changes ?? throw new ArgumentNullException(nameof(changes));
        Status = status ?? throw new ArgumentNullException(nameof(status));
    }

    /// <summary>The net changes, in order; empty for a status-only update.</summary>
    public IReadOnlyList<Change<EndPoint>> Changes { get; }

    /// <summary>The status after the changes.</summary>
    public DiscoveryStatus Status { get; }

    /// <summary>The discovery that produced this update, when it is one of the library's; for the applier's telemetry.</summary>
    internal DiscoveryInstance? Source { get; init; }

    /// <summary>When the earliest slice event behind <see cref="Changes"/> reached the pipeline
    /// (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>); 0 when unknown. For the resolver's delay histogram.</summary>
    internal long EventTimestamp { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"[{string.Join(", ", Changes)}] ({Status})";
}
