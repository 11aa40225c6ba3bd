using System.Reactive.Linq;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// Issue 12, item 2: the first retry after a healthy watch broke spreads over <see cref="BackoffOptions.FirstRetryWindow"/>
/// (full jitter); later retries keep the exponential rule, each measured from the failure before it.
/// </summary>
public sealed class FirstRetryWindowTests : ReactiveTest
{
    private static readonly Exception Transient = new HttpRequestException("connection refused");

    [TestCase(0.0, 0)]
    [TestCase(0.25, 250)]
    [TestCase(0.999, 999)]
    public void FirstRetryDelay_IsUniformOverTheWindow(double random, int milliseconds) =>
        Assert.That(BackoffOptions.Default.FirstRetryDelay(random), Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)).Within(TimeSpan.FromMilliseconds(1)));

    [Test]
    public void FirstRetryDelay_WindowAboveMaximum_IsCappedAtMaximum() =>
        Assert.That(
            new BackoffOptions(maximum: TimeSpan.FromMilliseconds(400)) { FirstRetryWindow = TimeSpan.FromSeconds(5) }.FirstRetryDelay(0.5),
            Is.EqualTo(TimeSpan.FromMilliseconds(200)));

    [Test]
    public void FirstRetryDelay_ZeroWindow_IsTheExponentialFirstDelay()
    {
        var backoff = BackoffOptions.Default with { FirstRetryWindow = TimeSpan.Zero };

        Assert.That(backoff.FirstRetryDelay(0.3), Is.EqualTo(backoff.Delay(1, 0.3)));
    }

    [Test]
    public void FirstRetryWindow_Negative_Throws() =>
        Assert.That(() => BackoffOptions.Default with { FirstRetryWindow = TimeSpan.FromTicks(-1) }, Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void DelayFor_AfterHealthy_OnlyTheFirstRetryUsesTheWindow()
    {
        var policy = new WatchRetryPolicy(BackoffOptions.Default, new TestScheduler(), () => 0.9);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(policy.DelayFor(Transient, 1, afterHealthy: true), Is.EqualTo(TimeSpan.FromMilliseconds(900)));
            Assert.That(policy.DelayFor(Transient, 1, afterHealthy: false), Is.EqualTo(BackoffOptions.Default.Delay(1, 0.9)));
            Assert.That(policy.DelayFor(Transient, 2, afterHealthy: true), Is.EqualTo(BackoffOptions.Default.Delay(2, 0.9)));
        }
    }

    /// <summary>
    /// Virtual time: a source that was healthy and then fails every time is retried at 0 + window*r, then after
    /// Delay(2), Delay(3): never two attempts closer than the backoff says.
    /// </summary>
    [Test]
    public void RetrySequence_AfterHealthyBreak_WindowThenExponential()
    {
        var scheduler = new TestScheduler();
        var backoff = new BackoffOptions(initial: TimeSpan.FromTicks(100), maximum: TimeSpan.FromTicks(10_000), jitter: 0)
        {
            FirstRetryWindow = TimeSpan.FromTicks(1_000),
        };
        var policy = new WatchRetryPolicy(backoff, scheduler, () => 0.5);
        var subscribed = new List<long>();
        var source = Observable.Defer(() =>
        {
            subscribed.Add(scheduler.Clock);
            return Observable.Throw<int>(Transient);
        });

        scheduler.Start(
            () => BackoffRetry.Create(source, scheduler, (error, attempt) => policy.DelayFor(error, attempt, afterHealthy: attempt == 1), null, _ => false, TimeSpan.FromTicks(1_000_000)),
            created: 50,
            subscribed: 100,
            disposed: 2_500);

        // Window 1000 * 0.5 = 500, then 200 and 400 (initial 100 doubled, no jitter), then 800.
        Assert.That(subscribed, Is.EqualTo(new long[] { 100, 600, 800, 1_200, 2_000 }));
    }
}
