using System.Collections.Concurrent;
using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Linq;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// What an EndpointSlice says about each endpoint reaches <see cref="DiscoveryUpdate.EndpointChanges"/>, the
/// <c>build</c> function and the addresses; a change of it is an Update of the same endpoint, never a remove and insert.
/// </summary>
public sealed class EndpointMetadataTests : ReactiveTest
{
    private static readonly EndPoint A = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080);
    private static readonly IEqualityComparer<KubernetesEndpoint> ByEndPoint =
        EqualityComparer<KubernetesEndpoint>.Create((x, y) => Equals(x?.EndPoint, y?.EndPoint), e => e.EndPoint.GetHashCode());

    private static EndpointSetTracker Tracker() => new(new DiscoveryConfig("svc", "grpc"), NullLogger.Instance);

    private static V1Endpoint Described(string address, string? zone = "zone-a", bool? ready = true, bool? serving = null, bool? terminating = null)
    {
        var endpoint = Endpoint(address, ready, serving, terminating);
        endpoint.Zone = zone;
        endpoint.NodeName = "node-1";
        endpoint.Hostname = "pod-1";
        endpoint.TargetRef = new V1ObjectReference { Kind = "Pod", Name = "greeter-1", NamespaceProperty = "demo" };
        endpoint.Hints = new V1EndpointHints { ForZones = [new V1ForZone { Name = "zone-a" }, new V1ForZone { Name = "zone-b" }], ForNodes = [new V1ForNode { Name = "node-1" }] };
        return endpoint;
    }

    private static KubernetesEndpoint Meta(string zone = "a", int version = 0) =>
        new(A) { Zone = zone, NodeName = "node-" + version };

    // ---- Projection ----

    [Test]
    public void Insert_CarriesEverythingTheSliceSaysAboutTheEndpoint()
    {
        var changes = Tracker().Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1")])));

        var endpoint = changes.Single().Item;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(endpoint.EndPoint, Is.EqualTo(A));
            Assert.That((endpoint.PodName, endpoint.PodNamespace, endpoint.NodeName, endpoint.Zone, endpoint.Hostname, endpoint.SliceName), Is.EqualTo(("greeter-1", "demo", "node-1", "zone-a", "pod-1", "a")));
            Assert.That((endpoint.Ready, endpoint.Serving, endpoint.Terminating), Is.EqualTo((true, true, false)));
            Assert.That(endpoint.ZoneHints, Is.EqualTo(new[] { "zone-a", "zone-b" }));
            Assert.That(endpoint.NodeHints, Is.EqualTo(new[] { "node-1" }));
        }
    }

    [Test]
    public void TargetRefNotAPod_NoPodName_AndNoHints_EmptyLists()
    {
        var endpoint = Endpoint("10.0.0.1");
        endpoint.TargetRef = new V1ObjectReference { Kind = "Node", Name = "node-1" };

        var projected = Tracker().Apply(SliceEvent.Upserted(Slice("a", [endpoint]))).Single().Item;

        Assert.That((projected.PodName, projected.PodNamespace, projected.ZoneHints.Count, projected.NodeHints.Count), Is.EqualTo(((string?)null, (string?)null, 0, 0)));
    }

    [Test]
    public void Conditions_FollowTheNullRules()
    {
        var tracker = Tracker();

        var withoutConditions = tracker.Apply(SliceEvent.Upserted(Slice("a", [EndpointWithoutConditions("10.0.0.1")]))).Single().Item;
        var fallback = Tracker().Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.2", ready: false, serving: true, terminating: true)]))).Single().Item;

        using (Assert.EnterMultipleScope())
        {
            Assert.That((withoutConditions.Ready, withoutConditions.Serving, withoutConditions.Terminating), Is.EqualTo((true, true, false)));
            Assert.That((fallback.Ready, fallback.Serving, fallback.Terminating), Is.EqualTo((false, true, true)));
        }
    }

    // ---- Updates in the tracker ----

    [TestCase("zone")]
    [TestCase("hints")]
    [TestCase("node")]
    [TestCase("hostname")]
    [TestCase("conditions")]
    public void MetadataChangesWhileInTheSet_AreOneUpdate_NeverARemoveAndInsert(string what)
    {
        var tracker = Tracker();
        tracker.Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1")])));
        var changed = Described("10.0.0.1");
        switch (what)
        {
            case "zone": changed.Zone = "zone-b"; break;
            case "hints": changed.Hints = null; break;
            case "node": changed.NodeName = "node-2"; break;
            case "hostname": changed.Hostname = "pod-1b"; break;
            default: changed.Conditions.Terminating = true; break;
        }

        var changes = tracker.Apply(SliceEvent.Upserted(Slice("a", [changed])));

        Assert.That(changes.Select(c => c.Kind), Is.EqualTo(new[] { ChangeKind.Update }));
        Assert.That(tracker.CurrentEndpoints.Single(), Is.EqualTo(changes[0].Item));
    }

    [Test]
    public void UnchangedSliceModified_NoChange()
    {
        var tracker = Tracker();
        tracker.Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1")])));

        Assert.That(tracker.Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1")]))), Is.Empty);
    }

    [Test]
    public void EndpointInTwoSlices_TakesTheFirstSliceByName_WhateverTheOrderOfEvents()
    {
        var first = Tracker();
        first.Apply(SliceEvent.Upserted(Slice("b", [Described("10.0.0.1", zone: "zone-b")])));
        first.Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1", zone: "zone-a")])));
        var second = Tracker();
        second.Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1", zone: "zone-a")])));
        second.Apply(SliceEvent.Upserted(Slice("b", [Described("10.0.0.1", zone: "zone-b")])));

        Assert.That(first.CurrentEndpoints.Single().Zone, Is.EqualTo("zone-a"));
        Assert.That(second.CurrentEndpoints.Single(), Is.EqualTo(first.CurrentEndpoints.Single()));
    }

    [Test]
    public void EndpointInTwoSlices_ReadyListingWinsOverATerminatingOne()
    {
        var tracker = Tracker();
        tracker.Apply(SliceEvent.Upserted(Slice("a", [Described("10.0.0.1", zone: "zone-a", ready: false, serving: true, terminating: true)])));
        tracker.Apply(SliceEvent.Upserted(Slice("b", [Described("10.0.0.1", zone: "zone-b")])));

        Assert.That((tracker.CurrentEndpoints.Single().SliceName, tracker.CurrentEndpoints.Single().Ready), Is.EqualTo(("b", true)));
    }

    // ---- The debouncer's netting, in virtual time ----

    [Test]
    public void Debounce_InsertThenUpdate_IsAnInsertOfTheNewValue() =>
        AssertNetted([Change.Insert(Meta("a")), Change.Update(Meta("b"))], [Change.Insert(Meta("b"))]);

    [Test]
    public void Debounce_UpdateThenUpdate_IsTheLastUpdate() =>
        AssertNetted([Change.Update(Meta("b")), Change.Update(Meta("c"))], [Change.Update(Meta("c"))]);

    [Test]
    public void Debounce_UpdateThenRemove_IsARemove() =>
        AssertNetted([Change.Update(Meta("b")), Change.Remove(Meta("b"))], [Change.Remove(Meta("b"))]);

    [Test]
    public void Debounce_RemoveThenInsertWithOtherMetadata_IsAnUpdate() =>
        AssertNetted([Change.Remove(Meta("a")), Change.Insert(Meta("b"))], [Change.Update(Meta("b"))]);

    [Test]
    public void Debounce_RemoveThenInsertOfTheSameEndpoint_IsNothing() =>
        AssertNetted([Change.Remove(Meta("a")), Change.Insert(Meta("a"))], []);

    [Test]
    public void Debounce_UpdateRemoveInsertOfTheUpdatedValue_IsStillAnUpdate() =>
        AssertNetted([Change.Update(Meta("b")), Change.Remove(Meta("b")), Change.Insert(Meta("b"))], [Change.Update(Meta("b"))]);

    private static void AssertNetted(Change<KubernetesEndpoint>[] input, Change<KubernetesEndpoint>[] expected)
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(input.Select((c, i) => OnNext(210 + (10 * i), c)).ToArray());

        var observer = scheduler.Start(() => source.Debounce(TimeSpan.FromTicks(50), TimeSpan.FromTicks(200), scheduler, ByEndPoint));

        var flushAt = 210 + (10 * (input.Length - 1)) + 50;
        Assert.That(observer.Messages, Is.EqualTo(expected.Select(c => OnNext(flushAt, c)).ToArray()));
        Assert.That(source.Subscriptions, Is.EqualTo(new[] { Subscribe(200, 1000) }));
    }

    // ---- DiscoveryUpdate's two views ----

    [Test]
    public void DiscoveryUpdate_FromEndPoints_GivesMetadataLessEndpoints()
    {
        var update = new DiscoveryUpdate([Change.Insert(A)], FakeDiscovery.Healthy);

        Assert.That(update.EndpointChanges, Is.EqualTo(new[] { Change.Insert(new KubernetesEndpoint(A)) }));
        Assert.That((update.EndpointChanges[0].Item.Ready, update.EndpointChanges[0].Item.Zone), Is.EqualTo((true, (string?)null)));
    }

    [Test]
    public void DiscoveryUpdate_FromEndpointChanges_ChangesLeaveUpdatesOut()
    {
        var b = new IPEndPoint(IPAddress.Parse("10.0.0.2"), 8080);

        var update = DiscoveryUpdate.FromEndpointChanges([Change.Insert(new KubernetesEndpoint(b)), Change.Update(Meta("b")), Change.Remove(Meta("b"))], FakeDiscovery.Healthy);

        Assert.That(update.Changes, Is.EqualTo(new[] { Change.Insert<EndPoint>(b), Change.Remove(A) }));
    }

    [Test]
    public void DiscoveryUpdate_UpdateOfAnEndPoint_Throws()
    {
        Assert.That(() => new DiscoveryUpdate([Change.Update(A)], FakeDiscovery.Healthy), Throws.ArgumentException);
    }

    [Test]
    public void DiscoveryUpdate_EmptyCollectionExpression_StillCompilesAndMeansNoChange()
    {
        var update = new DiscoveryUpdate([], FakeDiscovery.Healthy);

        Assert.That((update.Changes.Count, update.EndpointChanges.Count), Is.EqualTo((0, 0)));
    }

    [Test]
    public void KubernetesEndpoint_ValueEquality_ComparesHintsElementByElement()
    {
        var x = new KubernetesEndpoint(A) { Zone = "a", ZoneHints = ["a", "b"] };
        var y = new KubernetesEndpoint(A) { Zone = "a", ZoneHints = new List<string> { "a", "b" } };

        Assert.That((x == y, x.GetHashCode() == y.GetHashCode(), x == new KubernetesEndpoint(A) { Zone = "a", ZoneHints = ["b", "a"] }), Is.EqualTo((true, true, false)));
    }

    // ---- Building addresses ----

    [Test]
    public void DefaultBuild_PutsTheEndpointIntoTheAttributes_AndAnUpdateReplacesIt()
    {
        var (channel, results, source, scheduler) = Channel();
        using var _ = channel;
        using var subscription = source.ApplyTo(channel);

        source.Push(Change.Insert(Meta("a")));
        scheduler.AdvanceBy(1);
        source.Push(Change.Update(Meta("b")));
        scheduler.AdvanceBy(1);

        Assert.That(results.Where(r => r.Addresses is { Count: > 0 }).Select(r => Zone(r.Addresses!.Single())), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(channel.Resolver.Count, Is.EqualTo(1));
    }

    [Test]
    public void EndPointBuild_IsCalledOncePerInsert_ItsAddressKept_AndOnlyOurAttributeFollowsTheMetadata()
    {
        var (channel, results, source, scheduler) = Channel();
        using var _ = channel;
        var calls = 0;
        var host = new BalancerAttributesKey<string>("HostOverride");
        using var subscription = source.ApplyTo(channel, endPoint =>
        {
            calls++;
            var address = BalancerAddresses.Default(endPoint);
            address.Attributes.Set(host, "greeter.demo");
            return address;
        });

        source.Push(Change.Insert(Meta("a")));
        source.Push(Change.Update(Meta("b")));
        scheduler.AdvanceBy(1);

        var address = results.Last().Addresses!.Single();
        Assert.That((calls, Zone(address), address.Attributes.TryGetValue(host, out var value) ? value : null), Is.EqualTo((1, "b", "greeter.demo")));
    }

    [Test]
    public void EndpointBuild_IsCalledAgainForAnUpdate_AndAnAttributeItSetIsNotOverwritten()
    {
        var (channel, results, source, scheduler) = Channel();
        using var _ = channel;
        var seen = new List<string?>();
        using var subscription = source.ApplyWithMetadataTo(channel, endpoint =>
        {
            seen.Add(endpoint.Zone);
            var address = BalancerAddresses.Default(endpoint.EndPoint);
            address.Attributes.Set(KubernetesEndpoint.AttributeKey, new KubernetesEndpoint(endpoint.EndPoint) { Zone = "mine-" + endpoint.Zone });
            return address;
        });

        source.Push(Change.Insert(Meta("a")));
        scheduler.AdvanceBy(1);
        source.Push(Change.Update(Meta("b")));
        scheduler.AdvanceBy(1);

        Assert.That(seen, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(Zone(results.Last().Addresses!.Single()), Is.EqualTo("mine-b"));
    }

    [Test]
    public void EndpointBuild_ThrowsOnAnUpdate_TheAddressIsRemoved_AndCountedAsSkipped()
    {
        var (channel, results, source, scheduler) = Channel();
        using var _ = channel;
        using var subscription = source.ApplyWithMetadataTo(channel, endpoint =>
            endpoint.Zone == "bad" ? throw new InvalidOperationException("no") : BalancerAddresses.Default(endpoint.EndPoint));

        source.Push(Change.Insert(Meta("a")));
        source.Push(Change.Update(Meta("bad")));
        scheduler.AdvanceBy(1);

        Assert.That(results.Last().Status.Detail, Does.Contain("1 endpoint was skipped"));
    }

    [Test]
    public async Task OptionsBuild_K8sChannel_SeesTheMetadata_AndIsCalledAgainOnAnUpdate()
    {
        var source = new MetadataSource();
        var host = new BalancerAttributesKey<string>("HostOverride");
        var seen = new ConcurrentQueue<string?>();
        using var capture = new CapturingBalancerFactory();
        using var channel = K8sChannel(source, capture, options => options.Build = endpoint =>
        {
            seen.Enqueue(endpoint.Zone);
            var address = BalancerAddresses.Default(endpoint.EndPoint);
            address.Attributes.Set(host, $"pod-in-{endpoint.Zone}");
            return address;
        });
        string? HostHeld() => capture.Latest is [var address] && address.Attributes.TryGetValue(host, out var value) ? value : null;

        source.Push(Change.Insert(Meta("a")));
        await Eventually.That(() => HostHeld() == "pod-in-a", "the balancer holds the address built for zone a");
        source.Push(Change.Update(Meta("b")));
        await Eventually.That(() => HostHeld() == "pod-in-b", "the balancer holds the address rebuilt for zone b");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen, Is.EqualTo(new[] { "a", "b" }), "called for the insert and again for the update");
            Assert.That(Zone(capture.Latest!.Single()), Is.EqualTo("b"));
        }
    }

    [Test]
    public async Task OptionsBuildDefault_K8sChannel_KeepsTheAddress_AndTheAttributeFollowsTheMetadata()
    {
        var source = new MetadataSource();
        using var capture = new CapturingBalancerFactory();
        using var channel = K8sChannel(source, capture, configure: null);

        source.Push(Change.Insert(Meta("a")));
        await Eventually.That(() => capture.Latest is [var a] && Zone(a) == "a", "the balancer holds the endpoint in zone a");
        source.Push(Change.Update(Meta("b")));
        await Eventually.That(() => capture.Latest is [var b] && Zone(b) == "b", "the balancer holds the endpoint in zone b");

        Assert.That(capture.Latest!.Single().EndPoint, Is.EqualTo(new DnsEndPoint("10.0.0.1", 8080)));
    }

    /// <summary>A <c>k8s:///</c> channel on <paramref name="source"/> whose balancer records the addresses it is given;
    /// the resolver starts at once (ConnectAsync never completes: the balancer never picks).</summary>
    private static GrpcChannel K8sChannel(MetadataSource source, CapturingBalancerFactory capture, Action<KubernetesLoadBalancingOptions>? configure)
    {
        var options = new KubernetesLoadBalancingOptions
        {
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(CapturingBalancerFactory.PolicyName) } },
        };
        configure?.Invoke(options);
        var services = new ServiceCollection()
            .AddSingleton<ResolverFactory>(new KubernetesResolverFactory(_ => source, options))
            .AddSingleton<LoadBalancerFactory>(capture)
            .BuildServiceProvider();
        var channel = GrpcChannel.ForAddress("k8s:///greeter.demo:8080", new GrpcChannelOptions { ServiceProvider = services, Credentials = Grpc.Core.ChannelCredentials.Insecure });
        // Starts the resolver; it ends (cancelled, or the channel disposed) when the test is done.
        _ = channel.ConnectAsync(capture.Stopping).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        return channel;
    }

    /// <summary>A load-balancing policy that only records the latest addresses the resolver published.</summary>
    private sealed class CapturingBalancerFactory : LoadBalancerFactory, IDisposable
    {
        public const string PolicyName = "capture_addresses";
        private readonly CancellationTokenSource _stopping = new();
        private volatile IReadOnlyList<BalancerAddress>? _latest;

        public override string Name => PolicyName;

        public IReadOnlyList<BalancerAddress>? Latest => _latest;

        public CancellationToken Stopping => _stopping.Token;

        public override LoadBalancer Create(LoadBalancerOptions options) => new Balancer(this);

        public void Dispose()
        {
            _stopping.Cancel();
            _stopping.Dispose();
        }

        private sealed class Balancer(CapturingBalancerFactory owner) : LoadBalancer
        {
            public override void UpdateChannelState(ChannelState state)
            {
                if (state.Addresses is { } addresses) owner._latest = [.. addresses];
            }

            public override void RequestConnection()
            {
            }
        }
    }

    // ---- Operators ----

    [Test]
    public void Filter_PassesUpdatesOfPassedEndpointsOnly()
    {
        var source = new MetadataSource();
        var other = new IPEndPoint(IPAddress.Parse("10.0.0.9"), 8080);
        var received = new List<Change<KubernetesEndpoint>>();
        using var subscription = source.Filter(e => e.Equals(A)).Updates.Subscribe(u => received.AddRange(u.EndpointChanges));

        source.Push(Change.Insert(Meta("a")), Change.Insert(new KubernetesEndpoint(other)));
        source.Push(Change.Update(Meta("b")), Change.Update(new KubernetesEndpoint(other) { Zone = "z" }));

        Assert.That(received, Is.EqualTo(new[] { Change.Insert(Meta("a")), Change.Update(Meta("b")) }));
    }

    [Test]
    public void Share_LateSubscriberIsReplayedTheLatestMetadata()
    {
        var source = new MetadataSource();
        var shared = source.Share();
        using var first = shared.Updates.Subscribe(_ => { });
        source.Push(Change.Insert(Meta("a")));
        source.Push(Change.Update(Meta("b")));
        var late = new List<DiscoveryUpdate>();

        using var second = shared.Updates.Subscribe(late.Add);

        Assert.That(late.Single().EndpointChanges, Is.EqualTo(new[] { Change.Insert(Meta("b")) }));
    }

    [Test]
    public void ChangeStream_NeverSeesAnUpdate()
    {
        var source = new MetadataSource();
        var received = new List<Change<EndPoint>>();
        using var subscription = source.Share().Subscribe(received.Add);

        source.Push(Change.Insert(Meta("a")));
        source.Push(Change.Update(Meta("b")));
        source.Push(Change.Remove(Meta("b")));

        Assert.That(received, Is.EqualTo(new[] { Change.Insert(A), Change.Remove(A) }));
    }

    private static string? Zone(BalancerAddress address) =>
        address.Attributes.TryGetValue(KubernetesEndpoint.AttributeKey, out var endpoint) ? endpoint.Zone : null;

    private static (BalancedChannel Channel, List<ResolverResult> Results, MetadataSource Source, TestScheduler Scheduler) Channel()
    {
        var scheduler = new TestScheduler();
        var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        return (channel, results, new MetadataSource(), scheduler);
    }

    /// <summary>A source of updates with metadata, pushed by the test.</summary>
    private sealed class MetadataSource : IDiscoveryObservable
    {
        private readonly ReplaySubject<DiscoveryUpdate> _updates = new();

        public IObservable<DiscoveryUpdate> Updates => _updates.AsObservable();

        public IDisposable Subscribe(IObserver<Change<EndPoint>> observer) => _updates.SelectMany(u => u.Changes).Subscribe(observer);

        public void Push(params Change<KubernetesEndpoint>[] changes) => _updates.OnNext(DiscoveryUpdate.FromEndpointChanges(changes, FakeDiscovery.Healthy));
    }
}
