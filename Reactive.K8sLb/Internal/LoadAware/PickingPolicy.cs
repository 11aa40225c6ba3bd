namespace Reactive.K8sLb.Internal.LoadAware;

/// <summary>How a load-aware balancer picks (the validated snapshot of <see cref="LeastRequestConfig"/> or
/// <see cref="PeakEwmaConfig"/>); a balancer without one picks round robin.</summary>
/// <param name="Measure">What the random choices are compared by.</param>
/// <param name="Choices">How many endpoints each pick draws.</param>
/// <param name="DefaultRttTicks">Peak EWMA: a new endpoint's latency estimate, in <see cref="TimeSpan"/> ticks.</param>
/// <param name="DecayTicks">Peak EWMA: the decay time constant, in <see cref="TimeSpan"/> ticks.</param>
internal sealed record PickingPolicy(LoadMeasure Measure, int Choices, long DefaultRttTicks, long DecayTicks);
