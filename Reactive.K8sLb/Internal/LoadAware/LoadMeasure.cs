namespace Reactive.K8sLb.Internal.LoadAware;

/// <summary>What a load-aware picker compares between its random choices.</summary>
internal enum LoadMeasure
{
    /// <summary>gRFC A48's <c>least_request</c>: the calls in flight.</summary>
    OutstandingCalls,

    /// <summary>Finagle's and Linkerd's peak EWMA: the latency estimate times the calls in flight plus one.</summary>
    PeakEwma,
}
