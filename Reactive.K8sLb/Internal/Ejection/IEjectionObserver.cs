namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Hears the decisions of an <see cref="OutlierDetector"/> (the balancer logs them and records metrics; tests record
/// them). Called under the detector's lock, one at a time: it must not call back into the detector.
/// </summary>
internal interface IEjectionObserver
{
    /// <summary>The endpoint was ejected for <paramref name="duration"/>; <paramref name="evidence"/> says why, e.g.
    /// "5 consecutive Unavailable".</summary>
    void Ejected(EndpointHealth endpoint, EjectionReason reason, TimeSpan duration, string evidence);

    /// <summary>The endpoint's ejection of <paramref name="ejectedFor"/> (its scheduled time) ended.</summary>
    void Readmitted(EndpointHealth endpoint, TimeSpan ejectedFor);

    /// <summary>The endpoint qualified for ejection but stays: <paramref name="why"/> (the maximum share is ejected,
    /// or it is the last ready endpoint).</summary>
    void EjectionRefused(EndpointHealth endpoint, string evidence, string why);
}
