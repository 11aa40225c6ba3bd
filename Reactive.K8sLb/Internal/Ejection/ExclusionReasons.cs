namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Why an endpoint is excluded from picking. Several reasons can hold at once (outlier ejection, an active health
/// check); the endpoint is picked again only when none holds.
/// </summary>
[Flags]
internal enum ExclusionReasons
{
    /// <summary>Picked normally.</summary>
    None = 0,

    /// <summary>Ejected by outlier detection (<see cref="OutlierDetector"/>).</summary>
    Ejected = 1,

    /// <summary>Its active health check answered something other than SERVING
    /// (<see cref="HealthChecking.HealthWatcher"/>).</summary>
    NotServing = 2,
}
