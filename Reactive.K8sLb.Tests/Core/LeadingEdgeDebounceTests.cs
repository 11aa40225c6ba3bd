using Reactive.K8sLb.Linq;
using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using k8s.Models;
using Microsoft.Reactive.Testing;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// The leading edge of the debounce (the discovery default): a change after a quiet period goes out at once, the
/// burst that follows it is conflated.
/// </summary>
public sealed class LeadingEdgeDebounceTests : ReactiveTest
{
    private const string Synced = "(Healthy, synchronized)";
    private const string SyncedNoSlices = "(Healthy, synchronized: no EndpointSlices for Service 'grpc-server': check that the Service exists and has a selector)";

    private static DiscoveryConfig Config(TestScheduler scheduler) => new("grpc-server", 8080)
    {
        Debounce = TimeSpan.FromTicks(50),
        MaxDebounceDelay = TimeSpan.FromTicks(200),
        Scheduler = scheduler,
    };

    [Test]
    public void Defaults_LeadingEdgeIsOn()
    {
        Assert.That(new DiscoveryConfig("svc", 80).DebounceLeadingEdge, Is.True);
    }

    [Test]
    public void IsolatedChange_AfterQuietPeriod_IsEmittedAtOnce()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([Slice("a", "10.0.0.1")])),
            OnNext(400, SliceEvent.Upserted(Slice("b", "10.0.0.2"))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, $"[Insert 10.0.0.1:8080] {Synced}"),
            OnNext(400, $"[Insert 10.0.0.2:8080] {Synced}"),
        }));
    }

    [Test]
    public void Burst_FirstChangeAtOnce_RestConflatedAfterTheQuietWindow()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(205, SliceEvent.Reset([])),
            OnNext(300, SliceEvent.Upserted(Slice("a", "10.0.0.1"))),
            OnNext(310, SliceEvent.Upserted(Slice("b", "10.0.0.2"))),
            OnNext(320, SliceEvent.Upserted(Slice("c", "10.0.0.3"))),
            OnNext(330, SliceEvent.Deleted(Slice("b"))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.ToString()));

        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(205, $"[] {SyncedNoSlices}"),
            OnNext(300, $"[Insert 10.0.0.1:8080] {Synced}"),
            OnNext(380, $"[Insert 10.0.0.3:8080] {Synced}"),
        }));
    }

    [Test]
    public void ChangeRightAfterABurstWasFlushed_IsEmittedAtOnce()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(205, SliceEvent.Reset([])),
            OnNext(300, SliceEvent.Upserted(Slice("a", "10.0.0.1"))),
            OnNext(310, SliceEvent.Upserted(Slice("b", "10.0.0.2"))),
            OnNext(361, SliceEvent.Upserted(Slice("c", "10.0.0.3"))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.Changes.Count));

        // 310 is held until 360 (quiet since 310); at 361 the stream has been quiet for 51 ticks: out at once.
        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, 0), OnNext(300, 1), OnNext(360, 1), OnNext(361, 1) }));
    }

    [Test]
    public void ConstantChurn_LeadingChangeThenEveryMaxDelay()
    {
        var scheduler = new TestScheduler();
        var events = new List<Recorded<System.Reactive.Notification<SliceEvent>>> { OnNext(205, SliceEvent.Reset([])) };
        events.AddRange(Enumerable.Range(0, 12).Select(i => OnNext(300 + (i * 30), SliceEvent.Upserted(Slice("s" + i, "10.0.1." + i)))));
        var source = scheduler.CreateHotObservable(events.ToArray());

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => u.Changes.Count), 100, 200, 1000);

        // 300 goes out at once; 330..510 are held from 330 until the cap at 530 (7 events); 540..630 until quiet at 680.
        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(205, 0), OnNext(300, 1), OnNext(530, 7), OnNext(680, 4) }));
    }

    [Test]
    public void PublicDebounce_Leading_EmitsFirstChangeAtOnce()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(300, Change.Insert(1)),
            OnNext(310, Change.Insert(2)),
            OnNext(320, Change.Remove(2)),
            OnNext(330, Change.Insert(3)));

        var observer = scheduler.Start(() => source.Debounce(TimeSpan.FromTicks(50), TimeSpan.FromTicks(200), scheduler, leading: true));

        Assert.That(observer.Messages, Is.EqualTo(new[] { OnNext(300, Change.Insert(1)), OnNext(380, Change.Insert(3)) }));
    }

    private static V1EndpointSlice Slice(string name, params string[] ips) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        AddressType = "IPv4",
        Ports = [new Discoveryv1EndpointPort { Name = "grpc", Port = 8080 }],
        Endpoints = [.. ips.Select(ip => new V1Endpoint { Addresses = [ip], Conditions = new V1EndpointConditions { Ready = true } })],
    };
}
