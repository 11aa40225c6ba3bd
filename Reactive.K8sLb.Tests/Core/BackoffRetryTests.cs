using Reactive.K8sLb.Linq;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>The internal retry loop: which values start the delays over, and what a disposal stops.</summary>
public sealed class BackoffRetryTests : ReactiveTest
{
    private static readonly Exception Failure = new InvalidOperationException("watch dropped");

    private static readonly BackoffOptions Backoff = new(TimeSpan.FromTicks(100), TimeSpan.FromTicks(1000), 2.0, 0.0, TimeSpan.FromTicks(100_000));

    private static TimeSpan? NoSpread(Exception error, int attempt) => Backoff.Delay(attempt, 0.5);

    [Test]
    public void Create_EachSessionDeliversAValueThatResets_EveryRetryIsTheFirst()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnNext(5, "headers"), OnNext(8, "event"), OnError<string>(10, Failure));
        var attempts = new List<RetryAttempt>();

        scheduler.Start(() => BackoffRetry.Create(source, scheduler, NoSpread, attempts.Add, value => value == "event", Backoff.ResetAfter), 100, 200, 600);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(attempts.Select(a => a.Attempt), Is.EqualTo(new[] { 1, 1, 1, 1 }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(310, 320), Subscribe(420, 430), Subscribe(530, 540) }));
        }
    }

    [Test]
    public void Create_SessionsDeliverOnlyValuesThatDoNotReset_DelaysKeepGrowing()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnNext(5, "headers"), OnError<string>(10, Failure));
        var attempts = new List<RetryAttempt>();

        var observer = scheduler.Start(() => BackoffRetry.Create(source, scheduler, NoSpread, attempts.Add, value => value == "event", Backoff.ResetAfter), 100, 200, 1000);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(attempts.Select(a => a.Delay.Ticks), Is.EqualTo(new long[] { 100, 200, 400, 800 }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 210), Subscribe(310, 320), Subscribe(520, 530), Subscribe(930, 940) }));
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, "headers"), OnNext(315, "headers"), OnNext(525, "headers"), OnNext(935, "headers") }));
        }
    }

    [Test]
    public void Create_DelayForReturnsNull_PassesTheErrorOn()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateColdObservable(OnError<string>(10, Failure));
        var attempts = new List<RetryAttempt>();

        var observer = scheduler.Start(() => BackoffRetry.Create(source, scheduler, (_, _) => null, attempts.Add, _ => true, Backoff.ResetAfter));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnError<string>(210, Failure) }));
            Assert.That(attempts, Is.Empty);
        }
    }

    [Test]
    public void RetryWithBackoff_RetryTimerAlreadyFiringWhenDisposed_NeitherResubscribesNorReports()
    {
        // A timer whose callback is already running cannot be cancelled: model it with timers that ignore disposal.
        var scheduler = new TestScheduler();
        var timers = new UncancellableTimers(scheduler);
        var subscriptions = 0;
        var source = Observable.Defer(() =>
        {
            subscriptions++;
            return Observable.Throw<int>(subscriptions == 1 ? Failure : new ObjectDisposedException("lease"));
        });
        var attempts = new List<RetryAttempt>();
        var subscription = source.RetryWithBackoff(Backoff, timers, onRetry: attempts.Add, random: () => 0.5).Subscribe(_ => { }, _ => { });

        subscription.Dispose();
        scheduler.AdvanceBy(10_000);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(subscriptions, Is.EqualTo(1));
            Assert.That(attempts.Select(a => a.Exception), Is.EqualTo(new[] { Failure }));
        }
    }

    [Test]
    public void RetryWithBackoff_SessionFailsBecauseItIsBeingDisposed_DoesNotReport()
    {
        // The resource a session needs is torn down with the subscription; the failure that causes arrives late.
        var scheduler = new TestScheduler();
        var attempts = new List<RetryAttempt>();
        var source = new RawSource();
        var subscription = source.RetryWithBackoff(Backoff, scheduler, onRetry: attempts.Add, random: () => 0.5).Subscribe(_ => { }, _ => { });

        subscription.Dispose();
        source.Observer!.OnError(new ObjectDisposedException("lease"));
        scheduler.AdvanceBy(10_000);

        Assert.That(attempts, Is.Empty);
    }

    /// <summary>A source that keeps its observer and, unlike Observable.Create, does not detach it on disposal.</summary>
    private sealed class RawSource : IObservable<int>
    {
        public IObserver<int>? Observer { get; private set; }

        public IDisposable Subscribe(IObserver<int> observer)
        {
            Observer = observer;
            return Disposable.Empty;
        }
    }

    /// <summary>Delegates to a scheduler, but the returned disposables do not cancel anything.</summary>
    private sealed class UncancellableTimers(IScheduler inner) : IScheduler
    {
        public DateTimeOffset Now => inner.Now;

        public IDisposable Schedule<TState>(TState state, Func<IScheduler, TState, IDisposable> action)
        {
            inner.Schedule(state, action);
            return Disposable.Empty;
        }

        public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
        {
            inner.Schedule(state, dueTime, action);
            return Disposable.Empty;
        }

        public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<IScheduler, TState, IDisposable> action)
        {
            inner.Schedule(state, dueTime, action);
            return Disposable.Empty;
        }
    }
}
