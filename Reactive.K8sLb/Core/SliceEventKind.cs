namespace Reactive.K8sLb;

/// <summary>What happened to the EndpointSlices of a Service.</summary>
public enum SliceEventKind
{
    /// <summary>One slice was added or modified.</summary>
    Upserted = 0,

    /// <summary>One slice was deleted.</summary>
    Deleted = 1,

    /// <summary>A complete set of slices replaces everything known (what a LIST or relist produces).</summary>
    Reset = 2,
}
