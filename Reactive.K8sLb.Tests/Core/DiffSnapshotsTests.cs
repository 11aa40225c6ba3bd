using Reactive.K8sLb.Linq;
using System.Reactive.Linq;
using Microsoft.Reactive.Testing;

namespace Reactive.K8sLb.Tests.Core;

public sealed class DiffSnapshotsTests : ReactiveTest
{
    private static Recorded<System.Reactive.Notification<IReadOnlyCollection<T>>> Snapshot<T>(long ticks, params T[] items) =>
        OnNext<IReadOnlyCollection<T>>(ticks, items);

    [Test]
    public void DiffSnapshots_FirstSnapshot_InsertsAllInOrder()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Snapshot(210, 3, 1, 2));

        var observer = scheduler.Start(() => source.DiffSnapshots());

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, Change.Insert(3)), OnNext(210, Change.Insert(1)), OnNext(210, Change.Insert(2)) }));
    }

    [Test]
    public void DiffSnapshots_LaterSnapshot_InsertsNewThenRemovesGone()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Snapshot(210, 1, 2), Snapshot(220, 2, 3));

        var observer = scheduler.Start(() => source.DiffSnapshots());

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, Change.Insert(1)), OnNext(210, Change.Insert(2)),
            OnNext(220, Change.Insert(3)), OnNext(220, Change.Remove(1)),
        }));
    }

    [Test]
    public void DiffSnapshots_SameSnapshotAgain_EmitsNothing()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Snapshot(210, 1), Snapshot(220, 1));

        var observer = scheduler.Start(() => source.DiffSnapshots());

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, Change.Insert(1)) }));
    }

    [Test]
    public void DiffSnapshots_DuplicatesWithinSnapshot_CountOnce()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Snapshot(210, 1, 1, 2), Snapshot(220, 2, 2));

        var observer = scheduler.Start(() => source.DiffSnapshots());

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, Change.Insert(1)), OnNext(210, Change.Insert(2)),
            OnNext(220, Change.Remove(1)),
        }));
    }

    [Test]
    public void DiffSnapshots_CustomComparer_TreatsEqualItemsAsSame()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Snapshot(210, "a", "A"), Snapshot(220, "A", "b"));

        var observer = scheduler.Start(() => source.DiffSnapshots(StringComparer.OrdinalIgnoreCase));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, Change.Insert("a")), OnNext(220, Change.Insert("b")) }));
    }

    [Test]
    public void DiffSnapshots_EmptySnapshot_RemovesEverything()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(Snapshot(210, 1), Snapshot<int>(220));

        var observer = scheduler.Start(() => source.DiffSnapshots());

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, Change.Insert(1)), OnNext(220, Change.Remove(1)) }));
    }

    [Test]
    public void DiffSnapshots_ErrorAndCompletion_PassThrough()
    {
        var scheduler = new TestScheduler();
        var error = new InvalidOperationException("boom");
        var failing = scheduler.CreateHotObservable(Snapshot(210, 1), OnError<IReadOnlyCollection<int>>(220, error));

        var observer = scheduler.Start(() => failing.DiffSnapshots());

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, Change.Insert(1)), OnError<Change<int>>(220, error) }));
    }

    [Test]
    public void DiffSnapshots_TwoSubscriptions_HaveIndependentState()
    {
        var source = new[] { (IReadOnlyCollection<int>)[1] }.ToObservable();
        var diffs = source.DiffSnapshots();

        var first = diffs.ToList().Wait();
        var second = diffs.ToList().Wait();

        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void DiffSnapshots_NullSource_Throws()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => ((IObservable<IReadOnlyCollection<int>>)null!).DiffSnapshots())!;

        Assert.That(ex.ParamName, Is.EqualTo("source"));
    }
}
