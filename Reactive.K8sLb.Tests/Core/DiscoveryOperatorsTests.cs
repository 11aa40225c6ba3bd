using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Grpc.Net.Client.Balancer;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Linq;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>The status-keeping operators <c>Filter</c> and <c>Share</c>, and <c>ApplyTo</c> chosen at compile time.</summary>
public sealed class DiscoveryOperatorsTests
{
    private static readonly IPEndPoint A = new(IPAddress.Parse("10.0.0.1"), 80);
    private static readonly IPEndPoint B = new(IPAddress.Parse("10.0.0.2"), 80);
    private static readonly IPEndPoint V6 = new(IPAddress.Parse("fe80::1"), 80);

    private static string Describe(DiscoveryUpdate update) => update.ToString();

    [Test]
    public void Filter_KeepsTheStatus_AndARemovePassesExactlyWhenItsInsertDid()
    {
        var source = new FakeDiscovery();
        var calls = 0;
        var updates = new List<string>();

        // The predicate changes its mind after the first call: the removes must still match the inserts.
        using var subscription = source.Filter(endPoint => calls++ == 0 || endPoint.Equals(B)).Updates.Select(Describe).Subscribe(updates.Add);
        source.Insert(A);
        source.Insert(V6);
        source.Remove(A, V6);
        source.Fail("api down", synchronized: true);

        Assert.That(updates, Is.EqualTo(new[]
        {
            $"[Insert {A}] (Healthy, synchronized)",
            "[] (Healthy, synchronized)",
            $"[Remove {A}] (Healthy, synchronized)",
            "[] (Failing, synchronized: api down)",
        }));
    }

    [Test]
    public void Filter_PredicateThrows_ExcludesThatEndpointOnly()
    {
        var source = new FakeDiscovery();
        var changes = new List<Change<EndPoint>>();
        using var subscription = source.Filter(endPoint => endPoint.Equals(A) ? throw new InvalidOperationException("bug") : true).Subscribe(changes.Add);

        source.Insert(A, B);

        Assert.That(changes, Is.EqualTo(new[] { Change.Insert<EndPoint>(B) }));
    }

    [Test]
    public void Share_OneSourceSubscription_LateSubscriberGetsTheCurrentSetAndStatusFirst()
    {
        var subscriptions = 0;
        var subject = new Subject<DiscoveryUpdate>();
        var source = new CountingSource(Observable.Defer(() => { subscriptions++; return subject; }));
        var shared = source.Share();
        var first = new List<string>();
        var late = new List<string>();

        using var one = shared.Updates.Select(Describe).Subscribe(first.Add);
        subject.OnNext(new DiscoveryUpdate([Change.Insert<EndPoint>(A), Change.Insert<EndPoint>(B)], FakeDiscovery.Healthy));
        subject.OnNext(new DiscoveryUpdate([Change.Remove<EndPoint>(A)], FakeDiscovery.Healthy));
        using var two = shared.Updates.Select(Describe).Subscribe(late.Add);
        subject.OnNext(new DiscoveryUpdate([Change.Insert<EndPoint>(A)], FakeDiscovery.Healthy));

        Assert.That(subscriptions, Is.EqualTo(1));
        Assert.That(late, Is.EqualTo(new[] { $"[Insert {B}] (Healthy, synchronized)", $"[Insert {A}] (Healthy, synchronized)" }));
        Assert.That(first, Has.Count.EqualTo(3));
    }

    [Test]
    public void Share_LastSubscriberLeaves_StopsTheSource_AndTheNextOneStartsItAgain()
    {
        var active = 0;
        var source = new CountingSource(Observable.Create<DiscoveryUpdate>(_ =>
        {
            active++;
            return () => active--;
        }));
        var shared = source.Share();

        var one = shared.Updates.Subscribe();
        var two = shared.Updates.Subscribe();
        Assert.That(active, Is.EqualTo(1));
        one.Dispose();
        Assert.That(active, Is.EqualTo(1));
        two.Dispose();
        Assert.That(active, Is.Zero);

        using var three = shared.Updates.Subscribe();
        Assert.That(active, Is.EqualTo(1));
    }

    [Test]
    public void FilteredSource_ApplyTo_KeepsFailFastBeforeTheFirstSnapshot()
    {
        var scheduler = new TestScheduler();
        using var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        var source = new FakeDiscovery();

        using var subscription = source.Share().Filter(_ => true).ApplyTo(channel);
        source.Fail("endpointslices is forbidden");
        scheduler.AdvanceBy(1);

        Assert.That(results.Last().Status.Detail, Is.EqualTo("Kubernetes discovery failing: endpointslices is forbidden"));
    }

    [Test]
    public async Task Share_TwoConsumersOfOneService_OneListAndOneWatch()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", 8080)).AddPod("10.0.0.1");
        var config = new DiscoveryConfig("greeter", "grpc") { Namespace = "demo", ClientConfiguration = emulator.ClientConfiguration };
        var shared = KubernetesDiscovery.Observe(config).Share();
        var statuses = new List<DiscoveryStatus>();
        var changes = new List<Change<EndPoint>>();

        using var status = shared.Updates.Subscribe(update => { lock (statuses) statuses.Add(update.Status); });
        using var applied = shared.Subscribe(change => { lock (changes) changes.Add(change); });
        await Eventually.That(() => { lock (changes) return changes.Count == 1; }, "the endpoint arrives");
        await emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);

        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List || r.IsStreamingList), Is.EqualTo(1), "one list (a streaming list by default)");
        Assert.That(emulator.OpenWatchCount, Is.EqualTo(1));
        lock (statuses) Assert.That(statuses, Has.Some.Property(nameof(DiscoveryStatus.IsSynchronized)).True);
    }

    /// <summary>A discovery source over a given update stream.</summary>
    private sealed class CountingSource(IObservable<DiscoveryUpdate> updates) : IDiscoveryObservable
    {
        public IObservable<DiscoveryUpdate> Updates { get; } = updates;

        public IDisposable Subscribe(IObserver<Change<EndPoint>> observer) => Updates.SelectMany(u => u.Changes).Subscribe(observer);
    }
}
