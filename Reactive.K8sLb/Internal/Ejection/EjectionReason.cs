namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>Which rule ejected an endpoint (the <c>k8slb.ejection.reason</c> tag).</summary>
internal enum EjectionReason
{
    /// <summary>Too many failed calls in a row (Envoy's consecutive_5xx, Linkerd's failure accrual).</summary>
    ConsecutiveFailures,

    /// <summary>Too high a share of failed calls over an interval (gRFC A50's failure_percentage_ejection).</summary>
    FailureRate,
}
