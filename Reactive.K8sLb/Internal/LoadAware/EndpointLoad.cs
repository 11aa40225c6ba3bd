namespace Reactive.K8sLb.Internal.LoadAware;

/// <summary>
/// One endpoint's load, as the load-aware pickers read it: the calls in flight, and a peak-sensitive exponentially
/// weighted moving average of their latency (Finagle's <c>PeakEwma</c>, as Linkerd's proxy uses it through tower's
/// <c>peak_ewma</c>). A latency above the estimate replaces it at once (peaks count fully); one below it moves the
/// estimate by <c>1 - exp(-elapsed / decay)</c>; and reading the estimate decays it towards 0 with the time since the
/// last update, so an endpoint that got no calls after a peak is tried again instead of starving. A new endpoint
/// starts at <c>defaultRtt</c> (tower's default RTT), so it does not look free before its first answer.
/// <para>Latency is measured from the call's start to its response headers (or transport error), which is what
/// grpc-dotnet's call tracker sees; for unary calls that is the server's handling time plus the network. Hot path
/// lock-free but for one short lock per completed call; times are <see cref="TimeSpan"/> ticks
/// from an injected clock.</para>
/// </summary>
internal sealed class EndpointLoad
{
    private readonly object _gate = new();
    private readonly double _decayTicks;
    private int _outstanding;
    private double _cost;
    private long _stamp;

    /// <param name="defaultRtt">The estimate before the first answer, in ticks.</param>
    /// <param name="decayTicks">The decay time constant, in ticks (positive).</param>
    /// <param name="now">The current time, in ticks.</param>
    public EndpointLoad(double defaultRtt, double decayTicks, long now)
    {
        _cost = defaultRtt;
        _decayTicks = decayTicks;
        _stamp = now;
    }

    /// <summary>The calls started and not yet completed.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>A call started.</summary>
    public void Started() => Interlocked.Increment(ref _outstanding);

    /// <summary>A call completed (answer or failure), its latency not measured (<c>least_request</c>).</summary>
    public void Completed() => Interlocked.Decrement(ref _outstanding);

    /// <summary>A call completed after <paramref name="rttTicks"/>: an answer, or a failure (<paramref name="failed"/>),
    /// which may raise the estimate but never lowers it (a pod that fails every call at once must not look fast).</summary>
    public void Completed(long rttTicks, long now, bool failed = false)
    {
        Interlocked.Decrement(ref _outstanding);
        lock (_gate)
        {
            var rtt = Math.Max(0, rttTicks);
            if (failed && rtt <= _cost)
            {
                return;
            }

            if (rtt > _cost)
            {
                _cost = rtt;
            }
            else
            {
                // exp(-x) ~ 1 - x for the small steps of a busy endpoint (error below x^2 / 2): no exponential per call.
                var x = Math.Max(0, now - _stamp) / _decayTicks;
                var weight = x < 1e-3 ? 1 - x : Math.Exp(-x);
                _cost = (_cost * weight) + (rtt * (1 - weight));
            }

            _stamp = Math.Max(_stamp, now);
        }
    }

    /// <summary>The latency estimate at <paramref name="now"/>, in ticks: the last estimate, decayed towards 0 since its
    /// update while no call is in flight. With calls in flight and no answer the estimate does not decay: a pod that
    /// hangs must not come to look free (Finagle's intent with its penalty for pending calls). Read without the lock: a
    /// cost and a stamp from two updates can mis-price one pick, which the next update corrects.</summary>
    public double LatencyAt(long now)
    {
        var cost = Volatile.Read(ref _cost);
        if (Outstanding > 0) return cost;
        var elapsed = now - Volatile.Read(ref _stamp);

        // Within a ten-thousandth of the time constant the decay is below 0.01%: skip the exponential (most picks of
        // a busy channel come that soon after the endpoint's last answer).
        return elapsed <= _decayTicks * 1e-4 ? cost : cost * Math.Exp(-elapsed / _decayTicks);
    }

    /// <summary>Peak EWMA's load: the latency estimate times the calls in flight plus the one being placed.</summary>
    public double PeakEwmaCost(long now) => LatencyAt(now) * (Outstanding + 1);
}
