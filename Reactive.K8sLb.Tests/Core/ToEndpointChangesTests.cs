using Reactive.K8sLb.Linq;
using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Tests.Core.EndPoints;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>The diffing core through the public operator, without debounce: every event's net changes at once.</summary>
public sealed class ToEndpointChangesTests
{
    private static DiscoveryConfig Config(CapturingLoggerFactory? logs = null, AddressFamilyPolicy family = AddressFamilyPolicy.PreferIPv4) =>
        new("grpc-server", "grpc") { Debounce = TimeSpan.Zero, LoggerFactory = logs, AddressFamily = family };

    private static (Subject<SliceEvent> Source, ValidatingUpdateObserver Observer, IDisposable Subscription) Subscribe(DiscoveryConfig? config = null)
    {
        var source = new Subject<SliceEvent>();
        var observer = new ValidatingUpdateObserver();
        var subscription = source.ToEndpointChanges(config ?? Config()).Updates.Subscribe(observer);
        return (source, observer, subscription);
    }

    [Test]
    public void ToEndpointChanges_FirstEmptyReset_EmitsSynchronizedUpdateWithoutChanges()
    {
        var (source, observer, _) = Subscribe();

        source.OnNext(SliceEvent.Reset([]));

        var update = observer.Updates.Single();
        Assert.That((update.Changes.Count, update.Status.IsSynchronized, update.Status.Health), Is.EqualTo((0, true, DiscoveryHealth.Healthy)));
    }

    [Test]
    public void ToEndpointChanges_UpsertBeforeAnyReset_IsNotSynchronized()
    {
        var (source, observer, _) = Subscribe();

        source.OnNext(SliceEvent.Upserted(Ready("a", "10.0.0.1")));

        var update = observer.Updates.Single();
        Assert.That((update.Changes, update.Status.IsSynchronized), Is.EqualTo((new[] { Insert("10.0.0.1") }, false)));
    }

    [Test]
    public void ToEndpointChanges_ResetWithEndpoints_InsertsThemInOneSynchronizedUpdate()
    {
        var (source, observer, _) = Subscribe();

        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1"), Ready("b", "10.0.0.2")]));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Updates, Has.Count.EqualTo(1));
            Assert.That(observer.Updates[0].Status.IsSynchronized, Is.True);
            Assert.That(observer.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.1:8080", "10.0.0.2:8080" }));
        }
    }

    [Test]
    public void ToEndpointChanges_ResetAgainWithVanishedSlice_RemovesOnlyItsEndpoints()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1"), Ready("b", "10.0.0.2")]));

        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));

        Assert.That(observer.Updates[^1].Changes, Is.EqualTo(new[] { Remove("10.0.0.2") }));
    }

    [Test]
    public void ToEndpointChanges_ResetWithUnchangedEndpoints_EmitsNoUpdate()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));

        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));

        Assert.That(observer.Updates, Has.Count.EqualTo(1));
    }

    [Test]
    public void ToEndpointChanges_ModifiedSliceDropsEndpoint_RemovesIt()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1", "10.0.0.2")]));

        source.OnNext(SliceEvent.Upserted(Ready("a", "10.0.0.1")));

        Assert.That(observer.Updates[^1].Changes, Is.EqualTo(new[] { Remove("10.0.0.2") }));
    }

    [Test]
    public void ToEndpointChanges_EndpointMovesBetweenSlices_EmitsNoEndPointChange_OnlyAnUpdateOfItsSliceName()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1", "10.0.0.2")]));

        source.OnNext(SliceEvent.Upserted(Ready("b", "10.0.0.2")));
        source.OnNext(SliceEvent.Upserted(Ready("a", "10.0.0.1")));

        var later = observer.Updates.Skip(1).ToList();
        Assert.That(later.SelectMany(u => u.Changes), Is.Empty);
        Assert.That(later.SelectMany(u => u.EndpointChanges).Select(c => $"{c.Kind} {c.Item.EndPoint} {c.Item.SliceName}"), Is.EqualTo(new[] { "Update 10.0.0.2:8080 b" }));
    }

    [Test]
    public void ToEndpointChanges_DeleteSliceSharingAnEndpoint_RemovesOnlyTheOthers()
    {
        var (source, observer, _) = Subscribe();
        var a = Ready("a", "10.0.0.1", "10.0.0.2");
        source.OnNext(SliceEvent.Reset([a, Ready("b", "10.0.0.2")]));

        source.OnNext(SliceEvent.Deleted(a));

        Assert.That(observer.Updates[^1].Changes, Is.EqualTo(new[] { Remove("10.0.0.1") }));
    }

    [Test]
    public void ToEndpointChanges_DeleteUnknownSlice_EmitsNothing()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));

        source.OnNext(SliceEvent.Deleted(Ready("other", "10.0.0.1")));

        Assert.That(observer.Updates, Has.Count.EqualTo(1));
    }

    [Test]
    public void ToEndpointChanges_NamedPortMissing_WarnsOncePerSlice()
    {
        var logs = new CapturingLoggerFactory();
        var (source, observer, _) = Subscribe(Config(logs));
        var slice = Slice("a", [Endpoint("10.0.0.1")], ports: [("http", 80)]);

        source.OnNext(SliceEvent.Reset([slice]));
        source.OnNext(SliceEvent.Upserted(slice));
        source.OnNext(SliceEvent.Reset([slice]));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Set.Items, Is.Empty);
            Assert.That(logs.Entries.Count(e => e.EventId.Id == 103), Is.EqualTo(1));
            Assert.That(logs.Entries.Single(e => e.EventId.Id == 103).Message, Does.Contain("default/a").And.Contain("'grpc'"));
        }
    }

    [Test]
    public void ToEndpointChanges_DualStackWithPreferIPv4_CountsEachPodOnce()
    {
        var (source, observer, _) = Subscribe();

        source.OnNext(SliceEvent.Reset([Ready("v4", "10.0.0.1"), ReadyV6("v6", "fd00::1")]));

        Assert.That(observer.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.1:8080" }));
    }

    [Test]
    public void ToEndpointChanges_DualStackWithAny_CountsBothAddresses()
    {
        var (source, observer, _) = Subscribe(Config(family: AddressFamilyPolicy.Any));

        source.OnNext(SliceEvent.Reset([Ready("v4", "10.0.0.1"), ReadyV6("v6", "fd00::1")]));

        Assert.That(observer.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.1:8080", "[fd00::1]:8080" }));
    }

    [Test]
    public void ToEndpointChanges_FqdnSlice_YieldsDnsEndPoint()
    {
        var (source, observer, _) = Subscribe();

        source.OnNext(SliceEvent.Reset([Slice("f", [Endpoint("backend.example.com")], addressType: "FQDN")]));

        Assert.That(observer.Updates.Single().Changes, Is.EqualTo(new[] { Change.Insert(Dns("backend.example.com")) }));
    }

    [Test]
    public void ToEndpointChanges_AllReadyGoAndComeBack_FallbackThenBackToReady()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1"), Slice("b", [Terminating("10.0.0.2")])]));

        source.OnNext(SliceEvent.Upserted(Slice("a", [Terminating("10.0.0.1")])));
        var fallback = observer.Set.Sorted();
        source.OnNext(SliceEvent.Upserted(Ready("c", "10.0.0.3")));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fallback, Is.EqualTo(new[] { "10.0.0.1:8080", "10.0.0.2:8080" }));
            Assert.That(observer.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.3:8080" }));
        }
    }

    [Test]
    public void ToEndpointChanges_PlainChangeView_FlattensUpdates()
    {
        var source = new Subject<SliceEvent>();
        var changes = new List<Change<EndPoint>>();
        using var subscription = source.ToEndpointChanges(Config()).Subscribe(changes.Add);

        source.OnNext(SliceEvent.Reset([]));
        source.OnNext(SliceEvent.Upserted(Ready("a", "10.0.0.1", "10.0.0.2")));
        source.OnNext(SliceEvent.Deleted(Ready("a")));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1"), Insert("10.0.0.2"), Remove("10.0.0.1"), Remove("10.0.0.2") }));
    }

    [Test]
    public void ToEndpointChanges_SourceErrors_PassesErrorOn()
    {
        var (source, observer, _) = Subscribe();
        var error = new InvalidOperationException("boom");
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));

        source.OnError(error);

        Assert.That((observer.Error, observer.Updates.Count), Is.EqualTo((error, 1)));
    }

    [Test]
    public void ToEndpointChanges_SourceCompletes_CompletesAfterChanges()
    {
        var (source, observer, _) = Subscribe();
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));

        source.OnCompleted();

        Assert.That((observer.Completed, observer.Set.Items.Count), Is.EqualTo((true, 1)));
    }

    [Test]
    public void ToEndpointChanges_TwoSubscriptions_HaveIndependentState()
    {
        var source = new Subject<SliceEvent>();
        var discovery = source.ToEndpointChanges(Config());
        var first = new ValidatingUpdateObserver();
        using var s1 = discovery.Updates.Subscribe(first);
        source.OnNext(SliceEvent.Reset([Ready("a", "10.0.0.1")]));
        var second = new ValidatingUpdateObserver();
        using var s2 = discovery.Updates.Subscribe(second);

        source.OnNext(SliceEvent.Upserted(Ready("b", "10.0.0.2")));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.1:8080", "10.0.0.2:8080" }));
            Assert.That(second.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.2:8080" }));
        }
    }

    [Test]
    public void ToEndpointChanges_InvalidArguments_Throw()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Assert.Throws<ArgumentNullException>(() => ((IObservable<SliceEvent>)null!).ToEndpointChanges(Config()))!.ParamName, Is.EqualTo("source"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => Observable.Never<SliceEvent>().ToEndpointChanges(null!))!.ParamName, Is.EqualTo("config"));
            Assert.That(Assert.Throws<ArgumentNullException>(() => Observable.Never<SliceEvent>().ToEndpointChanges(Config()).Subscribe((IObserver<Change<EndPoint>>)null!))!.ParamName, Is.EqualTo("observer"));
        }
    }
}

/// <summary>The operator with its debounce (trailing only: every change waits for the quiet window), in virtual time.</summary>
public sealed class ToEndpointChangesDebounceTests : ReactiveTest
{
    private static DiscoveryConfig Config(TestScheduler scheduler) => new("grpc-server", "grpc")
    {
        Debounce = TimeSpan.FromTicks(50),
        MaxDebounceDelay = TimeSpan.FromTicks(200),
        DebounceLeadingEdge = false,
        Scheduler = scheduler,
    };

    private const string Synced = "(Healthy, synchronized)";
    private const string SyncedNoSlices = "(Healthy, synchronized: no EndpointSlices for Service 'grpc-server': check that the Service exists and has a selector)";

    [Test]
    public void ToEndpointChanges_FirstReset_FlushesImmediately()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(210, SliceEvent.Reset([Ready("a", "10.0.0.1")])));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, $"[Insert 10.0.0.1:8080] {Synced}") }));
    }

    [Test]
    public void ToEndpointChanges_FirstEmptyReset_FlushesImmediately()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(210, SliceEvent.Reset([])));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, $"[] {SyncedNoSlices}") }));
    }

    [Test]
    public void ToEndpointChanges_BurstOfSliceEvents_ProducesOneNetUpdate()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([Ready("a", "10.0.0.1")])),
            OnNext(300, SliceEvent.Upserted(Ready("b", "10.0.0.2"))),
            OnNext(310, SliceEvent.Upserted(Ready("c", "10.0.0.3"))),
            OnNext(320, SliceEvent.Deleted(Ready("b"))),
            OnNext(330, SliceEvent.Deleted(Ready("a"))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, $"[Insert 10.0.0.1:8080] {Synced}"),
            OnNext(380, $"[Insert 10.0.0.3:8080, Remove 10.0.0.1:8080] {Synced}"),
        }));
    }

    [Test]
    public void ToEndpointChanges_ConstantChurn_EmitsAtMaxDebounceDelay()
    {
        var scheduler = new TestScheduler();
        var events = new List<Recorded<System.Reactive.Notification<SliceEvent>>> { OnNext(205, SliceEvent.Reset([])) };
        events.AddRange(Enumerable.Range(0, 12).Select(i => OnNext(210 + (i * 30), SliceEvent.Upserted(Ready("s" + i, "10.0.1." + i)))));
        var source = scheduler.CreateHotObservable(events.ToArray());

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.Changes.Count), 100, 200, 1000);

        // An event every 30 ticks (quiet is 50): held from 210 until the cap at 410 (7 events), then from 420 until the
        // quiet window after the last event at 540 (5 events).
        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, 0), OnNext(410, 7), OnNext(590, 5) }));
    }

    [Test]
    public void ToEndpointChanges_DisposedWhileHolding_UnsubscribesSourceAndDropsChanges()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([])),
            OnNext(220, SliceEvent.Upserted(Ready("a", "10.0.0.1"))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()), 100, 200, 250);
        scheduler.AdvanceBy(1000);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(210, $"[] {SyncedNoSlices}") }));
            Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 250) }));
        }
    }

    [Test]
    public void ToEndpointChanges_ErrorWhileHolding_FlushesThenPassesError()
    {
        var scheduler = new TestScheduler();
        var error = new InvalidOperationException("watch broke");
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([])),
            OnNext(220, SliceEvent.Upserted(Ready("a", "10.0.0.1"))),
            OnError<SliceEvent>(230, error));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, $"[] {SyncedNoSlices}"),
            OnNext(230, $"[Insert 10.0.0.1:8080] {Synced}"),
            OnError<string>(230, error),
        }));
    }

    [Test]
    public void ToEndpointChanges_CompletesWhileHolding_FlushesThenCompletes()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([])),
            OnNext(220, SliceEvent.Upserted(Ready("a", "10.0.0.1"))),
            OnCompleted<SliceEvent>(230));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, $"[] {SyncedNoSlices}"),
            OnNext(230, $"[Insert 10.0.0.1:8080] {Synced}"),
            OnCompleted<string>(230),
        }));
    }
}
