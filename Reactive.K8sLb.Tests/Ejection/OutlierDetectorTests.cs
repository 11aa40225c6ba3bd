using Grpc.Core;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal.Ejection;

namespace Reactive.K8sLb.Tests.Ejection;

/// <summary>
/// The ejection rules in virtual time: consecutive failures, gRFC A50's failure percentage, ejection time and its
/// multiplier, readmission, the maximum share and the last ready endpoint.
/// </summary>
public sealed class OutlierDetectorTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Test]
    public void ConsecutiveFailures_AtTheThreshold_EjectsAtOnceWithTheEvidence()
    {
        using var world = new World(Options(consecutive: 5));
        var (a, _) = world.TwoReady();

        Fail(a, 4);
        Assert.That(a.IsEjected, Is.False, "4 failures are below the threshold");
        Fail(a, 1);

        Assert.That(a.IsEjected, Is.True);
        Assert.That(world.Events, Is.EqualTo(new[] { "ejected a for 30s (ConsecutiveFailures): 5 consecutive Unavailable" }));
    }

    [Test]
    public void ConsecutiveFailures_ASuccessInBetween_StartsTheStreakAgain()
    {
        using var world = new World(Options(consecutive: 5));
        var (a, _) = world.TwoReady();

        Fail(a, 4);
        a.Record(StatusCode.OK, responseHeadersReceived: true);
        Fail(a, 4);

        Assert.That(a.IsEjected, Is.False);
    }

    [Test]
    public void ConsecutiveFailures_MixedStatuses_SayTheFirst()
    {
        using var world = new World(Options(consecutive: 3));
        var (a, _) = world.TwoReady();

        a.Record(StatusCode.Internal, true);
        a.Record(StatusCode.Unavailable, false);
        a.Record(StatusCode.Unknown, true);

        Assert.That(world.Events, Is.EqualTo(new[] { "ejected a for 30s (ConsecutiveFailures): 3 consecutive failures, the first Internal" }));
    }

    [TestCase(StatusCode.NotFound)]
    [TestCase(StatusCode.InvalidArgument)]
    [TestCase(StatusCode.PermissionDenied)]
    [TestCase(StatusCode.FailedPrecondition)]
    [TestCase(StatusCode.AlreadyExists)]
    [TestCase(StatusCode.Unauthenticated)]
    [TestCase(StatusCode.ResourceExhausted)]
    [TestCase(StatusCode.Cancelled)]
    public void StatusOutsideTheFailureSet_NeverEjects(StatusCode code)
    {
        using var world = new World(Options(consecutive: 5, percent: 0, minimumHosts: 1, volume: 1));
        var (a, _) = world.TwoReady();

        for (var i = 0; i < 50; i++) a.Record(code, responseHeadersReceived: false);
        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);

        Assert.That(world.Events, Is.Empty);
    }

    [TestCase(StatusCode.Unavailable, true, true)]
    [TestCase(StatusCode.Internal, true, true)]
    [TestCase(StatusCode.Unknown, true, true)]
    [TestCase(StatusCode.DataLoss, true, true)]
    [TestCase(StatusCode.DeadlineExceeded, false, true)]
    [TestCase(StatusCode.DeadlineExceeded, true, false)]
    public void DefaultFailureSet_WhatCounts(StatusCode code, bool headers, bool ejects)
    {
        using var world = new World(Options(consecutive: 5));
        var (a, _) = world.TwoReady();

        for (var i = 0; i < 5; i++) a.Record(code, headers);

        Assert.That(a.IsEjected, Is.EqualTo(ejects));
    }

    [Test]
    public void ConfiguredFailureSet_ReplacesTheDefault()
    {
        var options = Options(consecutive: 2);
        options.FailureStatusCodes = [StatusCode.ResourceExhausted];
        using var world = new World(options);
        var (a, b) = world.TwoReady();

        Fail(a, 3);
        b.Record(StatusCode.ResourceExhausted, true);
        b.Record(StatusCode.ResourceExhausted, true);

        Assert.That((a.IsEjected, b.IsEjected), Is.EqualTo((false, true)));
    }

    [Test]
    public void Ejection_LastsTheBaseTime_ThenReadmits()
    {
        using var world = new World(Options(consecutive: 5));
        var (a, _) = world.TwoReady();
        Fail(a, 5);

        world.Scheduler.AdvanceBy(30 * Second.Ticks - 1);
        Assert.That(a.IsEjected, Is.True, "just before 30 s");
        world.Scheduler.AdvanceBy(1);

        Assert.That(a.IsEjected, Is.False);
        Assert.That(world.Events[^1], Is.EqualTo("readmitted a after 30s"));
    }

    [Test]
    public void RepeatedEjection_LastsBaseTimesItsCount_UpToTheMaximum()
    {
        var options = Options(consecutive: 1, baseTime: TimeSpan.FromSeconds(30), maxTime: TimeSpan.FromSeconds(70));
        options.Interval = TimeSpan.FromHours(1); // no decay within the test
        using var world = new World(options);
        var (a, _) = world.TwoReady();

        var durations = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            Fail(a, 1);
            durations.Add(world.Events[^1]);
            world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(70).Ticks);
        }

        Assert.That(durations, Is.EqualTo(new[]
        {
            "ejected a for 30s (ConsecutiveFailures): 1 consecutive Unavailable",
            "ejected a for 60s (ConsecutiveFailures): 1 consecutive Unavailable",
            "ejected a for 70s (ConsecutiveFailures): 1 consecutive Unavailable",
        }));
    }

    [Test]
    public void Multiplier_DecaysByOnePerIntervalAdmitted()
    {
        // gRFC A50: an admitted endpoint's multiplier decreases by one at each interval (ticks at 10, 20, 30, 40 s).
        var options = Options(consecutive: 1, baseTime: TimeSpan.FromSeconds(10), maxTime: TimeSpan.FromSeconds(300));
        options.Interval = TimeSpan.FromSeconds(10);
        using var world = new World(options);
        var (a, _) = world.TwoReady();
        world.Scheduler.AdvanceTo(Second.Ticks);
        Fail(a, 1); // multiplier 1: 10 s, readmitted at 11 s
        world.Scheduler.AdvanceTo(12 * Second.Ticks);
        Fail(a, 1); // multiplier 2: 20 s, readmitted at 32 s
        world.Scheduler.AdvanceTo(41 * Second.Ticks); // one tick admitted (40 s): 2 -> 1

        Fail(a, 1);

        Assert.That(world.Events.Where(e => e.StartsWith("ejected", StringComparison.Ordinal)).Select(e => e.Split(' ')[3]), Is.EqualTo(new[] { "10s", "20s", "20s" }));
    }

    [Test]
    public void MaxEjectionPercent_LimitsTheShareEjected()
    {
        using var world = new World(Options(consecutive: 1, maxPercent: 50));
        var endpoints = world.Ready(4);

        foreach (var endpoint in endpoints) Fail(endpoint, 1);

        Assert.That(endpoints.Count(e => e.IsEjected), Is.EqualTo(2));
        Assert.That(world.Events[2], Is.EqualTo("refused e2 (1 consecutive Unavailable): 2 of 4 endpoints are ejected already, the most allowed (50%)"));
    }

    [TestCase(2, 10, 1)]
    [TestCase(3, 50, 1)]
    [TestCase(5, 50, 2)]
    [TestCase(10, 10, 1)]
    [TestCase(10, 25, 2)]
    [TestCase(4, 0, 0)]
    public void MaxEjectionPercent_RoundsDownButAllowsOne(int endpoints, int percent, int ejected)
    {
        using var world = new World(Options(consecutive: 1, maxPercent: percent));
        var all = world.Ready(endpoints);

        foreach (var endpoint in all) Fail(endpoint, 1);

        Assert.That(all.Count(e => e.IsEjected), Is.EqualTo(ejected));
    }

    [Test]
    public void LastReadyEndpoint_IsNeverEjected()
    {
        using var world = new World(Options(consecutive: 1, maxPercent: 100));
        var (a, b) = world.TwoReady();

        Fail(a, 1);
        Fail(b, 1);

        Assert.That((a.IsEjected, b.IsEjected), Is.EqualTo((true, false)));
        Assert.That(world.Events[^1], Is.EqualTo("refused b (1 consecutive Unavailable): it is the last ready endpoint"));
    }

    [Test]
    public void EndpointsThatAreNotReady_DoNotCountAsSomewhereToGo()
    {
        using var world = new World(Options(consecutive: 1, maxPercent: 100));
        var a = world.Add("a", ready: true);
        world.Add("b", ready: false);

        Fail(a, 1);

        Assert.That(a.IsEjected, Is.False);
    }

    [Test]
    public void RefusedEjection_IsRetriedWhenRoomFreesUp()
    {
        using var world = new World(Options(consecutive: 2, maxPercent: 34));
        var all = world.Ready(3);
        Fail(all[0], 2);
        Fail(all[1], 2);
        Assert.That(all[1].IsEjected, Is.False, "precondition: refused (1 of 3 is the most)");

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(30).Ticks); // all[0] readmitted
        Fail(all[1], 1);

        Assert.That(all[1].IsEjected, Is.True);
    }

    [Test]
    public void FailurePercentage_AboveTheThreshold_EjectsAtTheInterval()
    {
        using var world = new World(Options(consecutive: 0, percent: 25, minimumHosts: 3, volume: 20));
        var all = world.Ready(4);
        foreach (var endpoint in all) Succeed(endpoint, 70);
        Fail(all[2], 30); // 30 of 100

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks - 1);
        Assert.That(all[2].IsEjected, Is.False, "judged only when the interval ends");
        world.Scheduler.AdvanceBy(1);

        Assert.That(all.Select(e => e.IsEjected), Is.EqualTo(new[] { false, false, true, false }));
        Assert.That(world.Events, Is.EqualTo(new[] { "ejected e2 for 30s (FailureRate): 30% of 100 calls failed in 10 s" }));
    }

    [Test]
    public void FailurePercentage_AtTheThreshold_DoesNotEject()
    {
        // gRFC A50: ejected when the failure percentage is greater than the threshold.
        using var world = new World(Options(consecutive: 0, percent: 25, minimumHosts: 1, volume: 20));
        var all = world.Ready(2);
        Succeed(all[0], 75);
        Fail(all[0], 25);

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);

        Assert.That(world.Events, Is.Empty);
    }

    [Test]
    public void FailurePercentage_TooFewEndpointsWithVolume_DoesNotRun()
    {
        using var world = new World(Options(consecutive: 0, percent: 25, minimumHosts: 3, volume: 20));
        var all = world.Ready(3);
        Fail(all[0], 40);
        Succeed(all[1], 40);
        Succeed(all[2], 19); // below the volume: only 2 endpoints qualify

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);

        Assert.That(world.Events, Is.Empty);
    }

    [Test]
    public void FailurePercentage_BelowTheVolume_IsNotJudged()
    {
        using var world = new World(Options(consecutive: 0, percent: 25, minimumHosts: 1, volume: 20));
        var all = world.Ready(2);
        Fail(all[0], 19);

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);

        Assert.That(world.Events, Is.Empty);
    }

    [Test]
    public void FailurePercentage_JudgesEachIntervalAlone()
    {
        using var world = new World(Options(consecutive: 0, percent: 25, minimumHosts: 1, volume: 20));
        var all = world.Ready(2);
        Fail(all[0], 10);
        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks); // 10 calls: below the volume
        Succeed(all[0], 15);

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks); // 15 calls, no failure

        Assert.That(world.Events, Is.Empty);
    }

    [Test]
    public void FailurePercentage_WorstFirst_WhenOnlySomeMayGo()
    {
        using var world = new World(Options(consecutive: 0, percent: 25, minimumHosts: 1, volume: 10, maxPercent: 25));
        var all = world.Ready(4);
        Succeed(all[0], 60);
        Fail(all[0], 40);
        Succeed(all[1], 20);
        Fail(all[1], 80);

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);

        Assert.That(all.Select(e => e.IsEjected), Is.EqualTo(new[] { false, true, false, false }));
    }

    [Test]
    public void RemovedEndpoint_IsDroppedWithoutReadmission()
    {
        using var world = new World(Options(consecutive: 1));
        var (a, _) = world.TwoReady();
        Fail(a, 1);

        world.Detector.Remove(a);
        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(60).Ticks);

        Assert.That(world.Events, Has.Count.EqualTo(1));
        Assert.That(world.Detector.EjectedCount, Is.Zero);
    }

    [Test]
    public void Disposal_StopsTimersAndReadmissions()
    {
        var world = new World(Options(consecutive: 1));
        var (a, _) = world.TwoReady();
        Fail(a, 1);

        world.Dispose();

        world.Scheduler.AdvanceBy(TimeSpan.FromSeconds(60).Ticks);
        Assert.That(world.Events, Has.Count.EqualTo(1));
    }

    [Test]
    public void EndpointWithoutDetector_CountsNothingAndIsNeverExcluded()
    {
        var endpoint = new EndpointHealth("x", detector: null);

        for (var i = 0; i < 100; i++) endpoint.Record(StatusCode.Unavailable, false);

        Assert.That((endpoint.IsCounting, endpoint.IsExcluded, endpoint.ConsecutiveFailures), Is.EqualTo((false, false, 0)));
    }

    [Test]
    public void ThrowingObserver_NeverEscapesIntoTheCallOrTheTimer_AndTheEjectionStillHappens()
    {
        // The observer is the logger and the meter: user code (providers, listeners) that may throw.
        var scheduler = new TestScheduler();
        var detector = new OutlierDetector(OutlierPolicy.From(Options(consecutive: 3))!, scheduler, new ThrowingObserver(), random: _ => 0);
        var a = detector.Add("a");
        var b = detector.Add("b");
        detector.SetReady(a, true);
        detector.SetReady(b, true);

        Assert.That(() => Fail(a, 3), Throws.Nothing);
        Assert.That(a.IsEjected, Is.True);
        Assert.That(() => scheduler.AdvanceBy(TimeSpan.FromSeconds(31).Ticks), Throws.Nothing);
        Assert.That(a.IsEjected, Is.False, "readmitted although the report of it threw");
        detector.Dispose();
    }

    [Test]
    public void StreakEvidence_NamesTheCodeOfANewStreak_NotAMixOfAnOldOne()
    {
        using var world = new World(Options(consecutive: 3));
        var (a, _) = world.TwoReady();
        a.Record(StatusCode.Internal, responseHeadersReceived: true);
        a.Record(StatusCode.Unavailable, responseHeadersReceived: true);
        a.Record(StatusCode.OK, responseHeadersReceived: true);

        Fail(a, 3);

        Assert.That(world.Events.Single(), Does.Contain("3 consecutive Unavailable"));
    }

    private sealed class ThrowingObserver : IEjectionObserver
    {
        public void Ejected(EndpointHealth endpoint, EjectionReason reason, TimeSpan duration, string evidence) => throw new AggregateException("logger provider failed");

        public void Readmitted(EndpointHealth endpoint, TimeSpan ejectedFor) => throw new InvalidCastException("listener failed");

        public void EjectionRefused(EndpointHealth endpoint, string evidence, string why) => throw new AggregateException("logger provider failed");
    }

    private static OutlierDetectionOptions Options(
        int consecutive = 5,
        int percent = 100,
        int minimumHosts = 3,
        int volume = 20,
        int maxPercent = 50,
        TimeSpan? baseTime = null,
        TimeSpan? maxTime = null) => new()
        {
            ConsecutiveFailures = consecutive,
            FailurePercentageThreshold = percent,
            MinimumHosts = minimumHosts,
            MinimumRequestVolume = volume,
            MaxEjectionPercent = maxPercent,
            BaseEjectionTime = baseTime ?? TimeSpan.FromSeconds(30),
            MaxEjectionTime = maxTime ?? TimeSpan.FromSeconds(300),

            // These tests step virtual time in 10 s intervals (gRFC A50's); the 2 s default has its own test.
            Interval = TimeSpan.FromSeconds(10),
        };

    private static void Fail(EndpointHealth endpoint, int times)
    {
        for (var i = 0; i < times; i++) endpoint.Record(StatusCode.Unavailable, responseHeadersReceived: false);
    }

    private static void Succeed(EndpointHealth endpoint, int times)
    {
        for (var i = 0; i < times; i++) endpoint.Record(StatusCode.OK, responseHeadersReceived: true);
    }

    private sealed class World : IEjectionObserver, IDisposable
    {
        public World(OutlierDetectionOptions options)
        {
            Detector = new OutlierDetector(OutlierPolicy.From(options)!, Scheduler, this, random: _ => 0);
        }

        public TestScheduler Scheduler { get; } = new();

        public OutlierDetector Detector { get; }

        public List<string> Events { get; } = [];

        public EndpointHealth Add(string name, bool ready)
        {
            var endpoint = Detector.Add(name);
            Detector.SetReady(endpoint, ready);
            return endpoint;
        }

        public (EndpointHealth A, EndpointHealth B) TwoReady() => (Add("a", true), Add("b", true));

        public EndpointHealth[] Ready(int count) => Enumerable.Range(0, count).Select(i => Add($"e{i}", true)).ToArray();

        public void Ejected(EndpointHealth endpoint, EjectionReason reason, TimeSpan duration, string evidence) =>
            Events.Add($"ejected {endpoint} for {duration.TotalSeconds}s ({reason}): {evidence}");

        public void Readmitted(EndpointHealth endpoint, TimeSpan ejectedFor) =>
            Events.Add($"readmitted {endpoint} after {ejectedFor.TotalSeconds}s");

        public void EjectionRefused(EndpointHealth endpoint, string evidence, string why) =>
            Events.Add($"refused {endpoint} ({evidence}): {why}");

        public void Dispose() => Detector.Dispose();
    }
}
