namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Why an endpoint is excluded from picking. Several reasons can hold at once (outlier ejection now; an active health
/// check later); the endpoint is picked again only when none holds.
/// </summary>
[Flags]
internal enum ExclusionReasons
{
    /// <summary>Picked normally.</summary>
    None = 0,

    /// <summary>Ejected by outlier detection (<see cref="OutlierDetector"/>).</summary>
    Ejected = 1,
}
