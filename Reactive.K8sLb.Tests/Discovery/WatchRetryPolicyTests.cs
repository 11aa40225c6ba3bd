using System.Net;
using k8s.Autorest;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>The watcher's retry delays: refusals, Retry-After, and the spread of a fleet.</summary>
public sealed class WatchRetryPolicyTests
{
    private static readonly Exception Transient = new HttpRequestException("connection refused");

    private static WatchRetryPolicy Policy(BackoffOptions? backoff = null, double random = 0.5, TestScheduler? scheduler = null) =>
        new(backoff ?? BackoffOptions.Default, scheduler ?? new TestScheduler(), () => random);

    private static HttpOperationException Answer(HttpStatusCode status, string? retryAfter = null)
    {
        using var response = new HttpResponseMessage(status);
        if (retryAfter is not null) response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        return new HttpOperationException($"Operation returned an invalid status code '{status}'") { Response = new HttpResponseMessageWrapper(response, string.Empty) };
    }

    [TestCase(HttpStatusCode.Unauthorized)]
    [TestCase(HttpStatusCode.Forbidden)]
    [TestCase(HttpStatusCode.NotFound)]
    public void DelayFor_Refused_StartsAtOneSecondAndDoublesUpToTheCap(HttpStatusCode status)
    {
        var policy = Policy();

        var delays = Enumerable.Range(1, 7).Select(attempt => policy.DelayFor(Answer(status), attempt));

        // Random 0.5 is the middle of the jitter range: the base delay, and 27 s once the range is [24 s, 30 s].
        Assert.That(delays, Is.EqualTo(new[] { 1, 2, 4, 8, 16, 27, 27 }.Select(s => TimeSpan.FromSeconds(s))));
    }

    [Test]
    public void DelayFor_Refused_IsJitteredLikeAnyOtherFailure()
    {
        var low = Policy(random: 0.0).DelayFor(Answer(HttpStatusCode.Forbidden), 1);
        var high = Policy(random: 1.0 - 1e-9).DelayFor(Answer(HttpStatusCode.Forbidden), 1);

        Assert.That((low, high), Is.EqualTo((TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1200))));
    }

    [Test]
    public void DelayFor_RefusedWithInitialAboveOneSecond_StartsAtInitial()
    {
        var policy = Policy(new BackoffOptions(initial: TimeSpan.FromSeconds(3)));

        Assert.That(policy.DelayFor(Answer(HttpStatusCode.Forbidden), 1), Is.EqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public void DelayFor_RefusedWithMaximumBelowOneSecond_StaysWithinTheMaximum()
    {
        var policy = Policy(new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)), random: 1.0 - 1e-9);

        Assert.That(policy.DelayFor(Answer(HttpStatusCode.Forbidden), 1), Is.EqualTo(TimeSpan.FromMilliseconds(300)));
    }

    [Test]
    public void DelayFor_TransientFailure_FollowsTheConfiguredBackoff()
    {
        var policy = Policy();

        var delays = Enumerable.Range(1, 3).Select(attempt => policy.DelayFor(Transient, attempt));

        Assert.That(delays, Is.EqualTo(new[] { 250, 500, 1000 }.Select(ms => TimeSpan.FromMilliseconds(ms))));
    }

    [Test]
    public void DelayFor_FleetOf50RefusedClients_FirstRetriesSpreadOverTheJitterRange()
    {
        var random = new Random(42);

        var delays = Enumerable.Range(0, 50)
            .Select(_ => new WatchRetryPolicy(BackoffOptions.Default, new TestScheduler(), random.NextDouble).DelayFor(Answer(HttpStatusCode.Forbidden), 1))
            .ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delays, Has.All.InRange(TimeSpan.FromMilliseconds(800), TimeSpan.FromMilliseconds(1200)));
            Assert.That(delays.Max() - delays.Min(), Is.GreaterThan(TimeSpan.FromMilliseconds(300)));
        }
    }

    [TestCase(HttpStatusCode.TooManyRequests)]
    [TestCase(HttpStatusCode.ServiceUnavailable)]
    public void DelayFor_RetryAfterSeconds_WaitsAtLeastThat(HttpStatusCode status)
    {
        var policy = Policy();

        Assert.That(policy.DelayFor(Answer(status, "7"), 1), Is.EqualTo(TimeSpan.FromSeconds(7)));
    }

    [Test]
    public void DelayFor_RetryAfterShorterThanTheBackoff_WaitsTheBackoff()
    {
        var policy = Policy();

        Assert.That(policy.DelayFor(Answer(HttpStatusCode.TooManyRequests, "1"), 4), Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void DelayFor_RetryAfterBeyondTheMaximum_WaitsTheMaximum()
    {
        var policy = Policy();

        Assert.That(policy.DelayFor(Answer(HttpStatusCode.ServiceUnavailable, "3600"), 1), Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void DelayFor_RetryAfterHttpDate_WaitsUntilThatTime()
    {
        var scheduler = new TestScheduler();
        scheduler.AdvanceTo(new DateTimeOffset(2026, 11, 3, 10, 0, 0, TimeSpan.Zero).Ticks);
        var policy = Policy(scheduler: scheduler);

        var delay = policy.DelayFor(Answer(HttpStatusCode.TooManyRequests, "Tue, 03 Nov 2026 10:00:12 GMT"), 1);

        Assert.That(delay, Is.EqualTo(TimeSpan.FromSeconds(12)));
    }

    [Test]
    public void DelayFor_RetryAfterOnAnotherStatus_IsIgnored()
    {
        var policy = Policy();

        Assert.That(policy.DelayFor(Answer(HttpStatusCode.InternalServerError, "20"), 1), Is.EqualTo(TimeSpan.FromMilliseconds(250)));
    }

    [TestCase("120", 120.0)]
    [TestCase(" 5 ", 5.0)]
    [TestCase("0", 0.0)]
    [TestCase("Tue, 03 Nov 2026 09:59:00 GMT", 0.0)]
    [TestCase("Tue, 03 Nov 2026 10:01:30 GMT", 90.0)]
    public void Parse_ValidForms_GiveTheWait(string value, double seconds)
    {
        var now = new DateTimeOffset(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);

        Assert.That(RetryAfterHeader.Parse(value, now), Is.EqualTo(TimeSpan.FromSeconds(seconds)));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("-3")]
    [TestCase("soon")]
    [TestCase("1.5")]
    public void Parse_InvalidValues_GiveNull(string? value)
    {
        Assert.That(RetryAfterHeader.Parse(value, DateTimeOffset.UnixEpoch), Is.Null);
    }
}
