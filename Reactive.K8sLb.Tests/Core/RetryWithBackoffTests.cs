using Reactive.K8sLb.Linq;
using System.Reactive.Linq;
using Microsoft.Reactive.Testing;

namespace Reactive.K8sLb.Tests.Core;

public sealed class RetryWithBackoffTests : ReactiveTest
{
    private static readonly Exception Failure = new InvalidOperationException("watch failed");

    private static BackoffOptions Options(long initial = 100, long maximum = 1000, double jitter = 0.0, long resetAfter = 100_000) =>
        new(TimeSpan.FromTicks(initial), TimeSpan.FromTicks(maximum), 2.0, jitter, TimeSpan.FromTicks(resetAfter));

    private static Func<double> NoSpread => () => 0.5;

    [Test]
    public void RetryWithBackoff_RepeatedErrors_DelaysGrowByMultiplier()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread), 100, 200, 1500);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.Empty);
            // Errors at +10; then waits of 100, 200, 400 (and 800, still pending at disposal).
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(310, 320), Subscribe(520, 530), Subscribe(930, 940) }));
        }
    }

    [Test]
    public void RetryWithBackoff_DelayReachesMaximum_StaysAtMaximum()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(maximum: 300), scheduler, random: NoSpread), 100, 200, 1500);

        // Waits of 100, 200, then 300 (capped from 400), 300, 300.
        Assert.That(source.Subscriptions, Is.EqualTo(new[]
        {
            Subscribe(200, 210), Subscribe(310, 320), Subscribe(520, 530), Subscribe(830, 840), Subscribe(1140, 1150), Subscribe(1450, 1460),
        }));
    }

    [Test]
    public void RetryWithBackoff_RandomZero_WaitsLowerJitterBound()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));
        var attempts = new List<RetryAttempt>();

        scheduler.Start(() => source.RetryWithBackoff(Options(jitter: 0.5), scheduler, onRetry: attempts.Add, random: () => 0.0), 100, 200, 400);

        using (Assert.EnterMultipleScope())
        {
            // Base delays 100, 200, 400, each halved.
            Assert.That(attempts.Select(a => a.Delay), Is.EqualTo(new[] { TimeSpan.FromTicks(50), TimeSpan.FromTicks(100), TimeSpan.FromTicks(200) }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(260, 270), Subscribe(370, 380) }));
        }
    }

    [Test]
    public void RetryWithBackoff_RandomNearOne_WaitsUpperJitterBound()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));
        var attempts = new List<RetryAttempt>();

        scheduler.Start(() => source.RetryWithBackoff(Options(initial: 1000, maximum: 100_000, jitter: 0.5), scheduler, onRetry: attempts.Add, random: () => 1.0 - 1e-9), 100, 200, 300);

        Assert.That(attempts.Single().Delay.Ticks, Is.InRange(1499, 1500));
    }

    [Test]
    public void RetryWithBackoff_UpperJitterAboveMaximum_WaitsMaximum()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));
        var attempts = new List<RetryAttempt>();

        scheduler.Start(() => source.RetryWithBackoff(Options(initial: 100, maximum: 120, jitter: 0.5), scheduler, onRetry: attempts.Add, random: () => 1.0 - 1e-9), 100, 200, 400);

        Assert.That(attempts.Select(a => a.Delay), Is.All.EqualTo(TimeSpan.FromTicks(120)));
    }

    [Test]
    public void RetryWithBackoff_SourceEmitsBeforeEachError_DelayStartsOver()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnNext(5, 1), OnError<int>(10, Failure));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread), 100, 200, 500);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, 1), OnNext(315, 1), OnNext(425, 1) }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(310, 320), Subscribe(420, 430) }));
        }
    }

    [Test]
    public void RetryWithBackoff_HealthyLongerThanResetAfter_DelayStartsOver()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));

        scheduler.Start(() => source.RetryWithBackoff(Options(resetAfter: 5), scheduler, random: NoSpread), 100, 200, 500);

        Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(310, 320), Subscribe(420, 430) }));
    }

    [Test]
    public void RetryWithBackoff_PredicateRejectsError_PassesErrorWithoutResubscribing()
    {
        var scheduler = new TestScheduler();
        var fatal = new UnauthorizedAccessException("forbidden");
        var source = scheduler.CreateColdObservable(OnNext(5, 1), OnError<int>(10, fatal));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, shouldRetry: e => e is InvalidOperationException, random: NoSpread));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, 1), OnError<int>(210, fatal) }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210) }));
        }
    }

    [Test]
    public void RetryWithBackoff_PredicateAcceptsError_Resubscribes()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));

        scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, shouldRetry: e => e is InvalidOperationException, random: NoSpread), 100, 200, 400);

        Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(310, 320) }));
    }

    [Test]
    public void RetryWithBackoff_ClassifierAsksForMaximumDelay_WaitsMaximum()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));
        var attempts = new List<RetryAttempt>();

        scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, _ => RetryDecision.RetryAfterMaximumDelay, attempts.Add, NoSpread), 100, 200, 1300);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(1210, 1220) }));
            Assert.That(attempts.Select(a => a.Delay), Is.EqualTo(new[] { TimeSpan.FromTicks(1000), TimeSpan.FromTicks(1000) }));
        }
    }

    [Test]
    public void RetryWithBackoff_ClassifierSaysFail_PassesErrorThrough()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, _ => RetryDecision.Fail));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnError<int>(210, Failure) }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210) }));
        }
    }

    [Test]
    public void RetryWithBackoff_ClassifierThrows_PassesClassifierErrorOn()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));
        var classifierError = new FormatException("bad classifier");

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, (Func<Exception, RetryDecision>)(_ => throw classifierError)));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnError<int>(210, classifierError) }));
    }

    [Test]
    public void RetryWithBackoff_OnRetryHook_SeesAttemptDelayAndException()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));
        var attempts = new List<RetryAttempt>();

        scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, onRetry: attempts.Add, random: NoSpread), 100, 200, 600);

        Assert.That(attempts, Is.EqualTo(new[]
        {
            new RetryAttempt(1, TimeSpan.FromTicks(100), Failure),
            new RetryAttempt(2, TimeSpan.FromTicks(200), Failure),
            new RetryAttempt(3, TimeSpan.FromTicks(400), Failure),
        }));
    }

    [Test]
    public void RetryWithBackoff_SourceCompletes_PassesCompletionThrough()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnNext(5, 1), OnCompleted<int>(10));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, 1), OnCompleted<int>(210) }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210) }));
        }
    }

    [Test]
    public void RetryWithBackoff_DisposedDuringWait_DoesNotResubscribe()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<int>(10, Failure));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread), 100, 200, 250);
        scheduler.AdvanceBy(10_000);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.Empty);
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210) }));
        }
    }

    [Test]
    public void RetryWithBackoff_DisposedWhileSubscribed_UnsubscribesSource()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnNext(50, 1), OnError<int>(100, Failure));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread), 100, 200, 260);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(250, 1) }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 260) }));
        }
    }

    [Test]
    public void RetryWithBackoff_SourceFailsDuringSubscribe_RetriesWithBackoff()
    {
        var scheduler = new TestScheduler();
        var subscribedAt = new List<long>();
        var source = Observable.Defer(() =>
        {
            subscribedAt.Add(scheduler.Clock);
            return Observable.Throw<int>(Failure);
        });

        scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread), 100, 200, 1000);

        Assert.That(subscribedAt, Is.EqualTo(new long[] { 200, 300, 500, 900 }));
    }

    [Test]
    public void RetryWithBackoff_ValueAfterRetries_IsDelivered()
    {
        var scheduler = new TestScheduler();
        var subscriptions = 0;
        var source = Observable.Defer(() => ++subscriptions < 3 ? Observable.Throw<int>(Failure) : Observable.Return(subscriptions));

        var observer = scheduler.Start(() => source.RetryWithBackoff(Options(), scheduler, random: NoSpread));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(500, 3), OnCompleted<int>(500) }));
    }

    [Test]
    public void RetryWithBackoff_InvalidArguments_Throw()
    {
        var source = Observable.Never<int>();
        var scheduler = new TestScheduler();
        var options = Options();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Assert.Throws<ArgumentNullException>(() => ((IObservable<int>)null!).RetryWithBackoff(options))!.ParamName, Is.EqualTo("source"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => source.RetryWithBackoff(null!))!.ParamName, Is.EqualTo("backoff"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => source.RetryWithBackoff(options, null!))!.ParamName, Is.EqualTo("scheduler"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => ((IObservable<int>)null!).RetryWithBackoff(options, scheduler, shouldRetry: null))!.ParamName, Is.EqualTo("source"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => source.RetryWithBackoff(options, scheduler, (Func<Exception, RetryDecision>)null!))!.ParamName, Is.EqualTo("classify"));
        }
    }
}
