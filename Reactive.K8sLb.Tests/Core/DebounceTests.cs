using Reactive.K8sLb.Linq;
using System.Reactive.Linq;
using Microsoft.Reactive.Testing;

namespace Reactive.K8sLb.Tests.Core;

public sealed class DebounceTests : ReactiveTest
{
    private static readonly TimeSpan Quiet = TimeSpan.FromTicks(20);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromTicks(95);

    [Test]
    public void Debounce_BurstWithinWindow_EmitsNetChangesOnceAtQuietExpiry()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert(1)),
            OnNext(215, Change.Insert(2)),
            OnNext(225, Change.Insert(3)));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(245, Change.Insert(1)),
            OnNext(245, Change.Insert(2)),
            OnNext(245, Change.Insert(3)),
        }));
    }

    [Test]
    public void Debounce_ConstantChurnFasterThanQuiet_EmitsAtMaxDelayAfterFirstBufferedChange()
    {
        var scheduler = new TestScheduler();
        var notifications = Enumerable.Range(0, 19).Select(i => OnNext(210 + (i * 10), Change.Insert(i))).ToArray();
        var source = scheduler.CreateHotObservable(notifications);

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        var expected = Enumerable.Range(0, 10).Select(i => OnNext(305, Change.Insert(i)))
            .Concat(Enumerable.Range(10, 9).Select(i => OnNext(405, Change.Insert(i))));
        Assert.That(observer.Messages, Is.EqualTo(expected));
    }

    [Test]
    public void Debounce_InsertThenRemoveOfSameItem_CancelAndSurvivorsKeepOrder()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert(1)),
            OnNext(211, Change.Insert(2)),
            OnNext(212, Change.Remove(1)),
            OnNext(213, Change.Insert(3)));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(233, Change.Insert(2)), OnNext(233, Change.Insert(3)) }));
    }

    [Test]
    public void Debounce_RemoveThenInsertOfSameItem_CancelAndSurvivorsKeepOrder()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Remove(4)),
            OnNext(211, Change.Remove(1)),
            OnNext(212, Change.Insert(5)),
            OnNext(213, Change.Insert(1)));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(233, Change.Remove(4)), OnNext(233, Change.Insert(5)) }));
    }

    [Test]
    public void Debounce_EverythingCancels_EmitsNothing()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(210, Change.Insert(1)), OnNext(211, Change.Remove(1)));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.Empty);
    }

    [Test]
    public void Debounce_CustomComparer_CancelsItemsEqualUnderComparer()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert("a")),
            OnNext(211, Change.Remove("A")),
            OnNext(212, Change.Insert("b")));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler, StringComparer.OrdinalIgnoreCase));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(232, Change.Insert("b")) }));
    }

    [Test]
    public void Debounce_QuietZero_PassesMessagesThroughUnchanged()
    {
        var scheduler = new TestScheduler();
        var messages = new[]
        {
            OnNext(210, Change.Insert(1)),
            OnNext(210, Change.Insert(1)),
            OnNext(220, Change.Remove(1)),
            OnNext(230, Change.Insert(2)),
            OnCompleted<Change<int>>(240),
        };
        var source = scheduler.CreateHotObservable(messages);

        var observer = scheduler.Start(() => source.Debounce(TimeSpan.Zero, TimeSpan.Zero, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(messages));
    }

    [Test]
    public void Debounce_SourceErrors_FlushesBufferedThenPropagatesError()
    {
        var scheduler = new TestScheduler();
        var error = new InvalidOperationException("boom");
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert(1)),
            OnNext(215, Change.Insert(2)),
            OnError<Change<int>>(220, error));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(220, Change.Insert(1)),
            OnNext(220, Change.Insert(2)),
            OnError<Change<int>>(220, error),
        }));
    }

    [Test]
    public void Debounce_SourceCompletes_FlushesBufferedThenCompletes()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert(1)),
            OnNext(215, Change.Remove(2)),
            OnCompleted<Change<int>>(220));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(220, Change.Insert(1)),
            OnNext(220, Change.Remove(2)),
            OnCompleted<Change<int>>(220),
        }));
    }

    [Test]
    public void Debounce_DisposedWhileBuffering_DropsBufferedAndUnsubscribesSource()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert(1)),
            OnNext(215, Change.Insert(2)));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler), created: 100, subscribed: 200, disposed: 225);
        scheduler.AdvanceBy(1000);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.Empty);
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 225) }));
        }
    }

    [Test]
    public void Debounce_SecondBurstAfterFlush_StartsNewWindow()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, Change.Insert(1)),
            OnNext(300, Change.Insert(2)),
            OnNext(310, Change.Remove(1)));

        var observer = scheduler.Start(() => source.Debounce(Quiet, MaxDelay, scheduler));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(230, Change.Insert(1)),
            OnNext(330, Change.Insert(2)),
            OnNext(330, Change.Remove(1)),
        }));
    }

    [Test]
    public void Debounce_InvalidArguments_Throw()
    {
        var source = Observable.Never<Change<int>>();
        var scheduler = new TestScheduler();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Assert.Throws<ArgumentNullException>(() => ((IObservable<Change<int>>)null!).Debounce(Quiet, MaxDelay, scheduler))!.ParamName, Is.EqualTo("source"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => ((IObservable<Change<int>>)null!).Debounce(Quiet, MaxDelay))!.ParamName, Is.EqualTo("source"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => source.Debounce(TimeSpan.FromTicks(-1), MaxDelay, scheduler))!.ParamName, Is.EqualTo("quiet"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => source.Debounce(Quiet, Quiet - TimeSpan.FromTicks(1), scheduler))!.ParamName, Is.EqualTo("maxDelay"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => source.Debounce(Quiet, MaxDelay, null!))!.ParamName, Is.EqualTo("scheduler"));
        }
    }
}
