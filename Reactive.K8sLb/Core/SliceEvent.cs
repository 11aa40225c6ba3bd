using k8s.Models;

namespace Reactive.K8sLb;

/// <summary>
/// An event about a Service's EndpointSlices: the input of the diffing core
/// (<see cref="Linq.SliceObservableExtensions.ToEndpointChanges(IObservable{SliceEvent}, DiscoveryConfig)"/>).
/// </summary>
public sealed class SliceEvent
{
    private SliceEvent(SliceEventKind kind, V1EndpointSlice? slice, IReadOnlyList<V1EndpointSlice>? slices)
    {
        Kind = kind;
        Slice = slice;
        Slices = slices ?? (slice is null ? [] : [slice]);
    }

    /// <summary>What happened.</summary>
    public SliceEventKind Kind { get; }

    /// <summary>The slice that was upserted or deleted; <see langword="null"/> for a reset.</summary>
    public V1EndpointSlice? Slice { get; }

    /// <summary>For a reset, the complete set of slices; otherwise the one slice.</summary>
    public IReadOnlyList<V1EndpointSlice> Slices { get; }

    /// <summary>A slice was added or modified.</summary>
    /// <param name="slice">The slice as it is now.</param>
    /// <returns>The event.</returns>
    public static SliceEvent Upserted(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        return new SliceEvent(SliceEventKind.Upserted, slice, null);
    }

    /// <summary>A slice was deleted.</summary>
    /// <param name="slice">The slice (its namespace and name identify it).</param>
    /// <returns>The event.</returns>
    public static SliceEvent Deleted(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        return new SliceEvent(SliceEventKind.Deleted, slice, null);
    }

    /// <summary>A complete snapshot: these are all the slices that exist now.</summary>
    /// <param name="slices">Every slice of the Service.</param>
    /// <returns>The event.</returns>
    public static SliceEvent Reset(IEnumerable<V1EndpointSlice> slices)
    {
        ArgumentNullException.ThrowIfNull(slices);
        return new SliceEvent(SliceEventKind.Reset, null, slices.ToArray());
    }

    /// <inheritdoc />
    public override string ToString() => Kind == SliceEventKind.Reset
        ? $"Reset ({Slices.Count} slices)"
        : $"{Kind} {Slice!.Metadata?.NamespaceProperty}/{Slice.Metadata?.Name}";
}
