using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb.Tests.LoadAware;

/// <summary>Peak EWMA as Finagle and tower define it: peaks replace the estimate, lower latencies move it by
/// <c>1 - exp(-elapsed / decay)</c>, and reading decays it towards 0.</summary>
public sealed class EndpointLoadTests
{
    private static readonly long Ms = TimeSpan.TicksPerMillisecond;
    private static readonly long Decay = 10_000 * Ms;

    [Test]
    public void NewEndpoint_StartsAtTheDefaultRtt()
    {
        var load = new EndpointLoad(30 * Ms, Decay, now: 0);

        Assert.That(load.LatencyAt(0), Is.EqualTo(30.0 * Ms));
        Assert.That(load.PeakEwmaCost(0), Is.EqualTo(30.0 * Ms), "no call in flight: cost = estimate x 1");
    }

    [Test]
    public void Peak_ReplacesTheEstimateAtOnce()
    {
        var load = new EndpointLoad(1 * Ms, Decay, now: 0);
        load.Started();

        load.Completed(50 * Ms, now: 1);

        Assert.That(load.LatencyAt(1), Is.EqualTo(50.0 * Ms));
    }

    [Test]
    public void LowerLatency_MovesTheEstimateByOneMinusExpOfElapsedOverDecay()
    {
        var load = new EndpointLoad(50 * Ms, Decay, now: 0);
        load.Started();

        load.Completed(10 * Ms, now: Decay); // one time constant later: weight of the old estimate = 1/e

        var expected = (50.0 * Ms / Math.E) + (10.0 * Ms * (1 - (1 / Math.E)));
        Assert.That(load.LatencyAt(Decay), Is.EqualTo(expected).Within(1e-6 * expected));
    }

    [Test]
    public void Reading_DecaysTowardsZero_SoAnIdleSlowEndpointIsTriedAgain()
    {
        var load = new EndpointLoad(50 * Ms, Decay, now: 0);

        Assert.That(load.LatencyAt(Decay), Is.EqualTo(50.0 * Ms / Math.E).Within(1.0));
        Assert.That(load.LatencyAt(10 * Decay), Is.LessThan(0.01 * Ms));
    }

    [Test]
    public void CallsInFlight_MultiplyTheCost()
    {
        var load = new EndpointLoad(2 * Ms, Decay, now: 0);
        load.Started();
        load.Started();

        Assert.That(load.Outstanding, Is.EqualTo(2));
        Assert.That(load.PeakEwmaCost(0), Is.EqualTo(6.0 * Ms), "estimate x (2 in flight + 1)");

        load.Completed(2 * Ms, now: 0);
        Assert.That(load.Outstanding, Is.EqualTo(1));
    }

    [Test]
    public void StalledEndpointWithCallsInFlight_DoesNotLookCheaperThanAHealthyOne()
    {
        // Both start at 30 ms. "stalled" then accepts 20 calls and never answers (no deadline, no headers); "healthy"
        // answers in 30 ms and has one call in flight. Found in review: the estimate decayed while calls were stuck.
        var stalled = new EndpointLoad(30 * Ms, Decay, now: 0);
        var healthy = new EndpointLoad(30 * Ms, Decay, now: 0);
        for (var i = 0; i < 20; i++) stalled.Started();
        var now = 60_000 * Ms;
        healthy.Started();
        healthy.Completed(30 * Ms, now);
        healthy.Started();

        Assert.That(stalled.PeakEwmaCost(now), Is.GreaterThan(healthy.PeakEwmaCost(now)));
    }

    [Test]
    public void FastFailure_DoesNotLowerTheEstimate()
    {
        var load = new EndpointLoad(30 * Ms, Decay, now: 0);
        load.Started();

        load.Completed(1 * Ms, now: Decay, failed: true);

        Assert.That(load.LatencyAt(Decay), Is.EqualTo(30.0 * Ms / Math.E).Within(1.0), "only the time decay, as if no call had completed");
    }
}
