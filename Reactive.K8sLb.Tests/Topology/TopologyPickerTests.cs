using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.Topology;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Internal.Telemetry.BalancerInstruments;
using static Reactive.K8sLb.Tests.Topology.TopologyWorld;

namespace Reactive.K8sLb.Tests.Topology;

/// <summary>
/// The balancer's two-tier picker over real subchannels (gRPC pods on loopback), with addresses carrying EndpointSlice
/// metadata: which endpoints form the local tier under each mode, where picks go when the local tier is excluded, the
/// share of calls <see cref="TopologyMode.PreferLocal"/> keeps local (with a deterministic random draw), hints that move
/// without new subchannels, and the <c>k8slb.locality</c> tag.
/// </summary>
public sealed class TopologyPickerTests
{
    private static readonly TopologyPolicy HintsInZoneA = new(TopologyMode.Hints, "zone-a", null, null);

    private static TopologyPolicy PreferLocalInZoneA(double? minLocalShare = null) => new(TopologyMode.PreferLocal, "zone-a", null, minLocalShare);

    [Test]
    public async Task Hints_TwoOfSixHintedForTheClientZone_EveryPickGoesToThoseTwo()
    {
        await using var pods = await GreeterPods.StartAsync(6);
        await using var world = Create(HintsInZoneA);
        world.Insert(pods, SixWithZoneAHintsOn("pod-2", "pod-5"));

        var picker = await world.ReadyPickerWith(6, local: 2);
        var picks = Picks(picker, 20);

        Assert.That(picker.LocalEndpoints.Select(HostOf), Is.EquivalentTo(new[] { Host(pods, "pod-2"), Host(pods, "pod-5") }));
        Assert.That(picks, Is.EquivalentTo(new Dictionary<string, int> { [Host(pods, "pod-2")] = 10, [Host(pods, "pod-5")] = 10 }));
    }

    [Test]
    public async Task Hints_EveryLocalEndpointExcluded_PicksGoToTheOthers_ThenBackWhenOneIsReadmitted()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(6);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, SixWithZoneAHintsOn("pod-1", "pod-2"));
        var picker = await world.ReadyPickerWith(6, local: 2);
        foreach (var endpoint in picker.LocalEndpoints) endpoint.Health.Exclude(ExclusionReasons.Ejected);

        var spilled = Picks(picker, 12);

        Assert.That(spilled, Is.EquivalentTo(new[] { "pod-3", "pod-4", "pod-5", "pod-6" }.ToDictionary(n => Host(pods, n), _ => 3)));
        Assert.That(Count(logs, 417), Is.EqualTo(1), "one line for the spill, not one per pick");
        Assert.That(Count(logs, 418), Is.Zero);

        Endpoint(picker, pods, "pod-2").Health.Include(ExclusionReasons.Ejected);
        var back = Picks(picker, 5);

        Assert.That(back, Is.EquivalentTo(new Dictionary<string, int> { [Host(pods, "pod-2")] = 5 }));
        Assert.That(Count(logs, 418), Is.EqualTo(1));
        Assert.That(world.Latest!.Picker, Is.SameAs(picker), "exclusion and readmission need no new picker");
    }

    [Test]
    public async Task Hints_OneEndpointWithoutAHint_OneTierWithEveryEndpoint_AndTheLogNamesIt()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, ("pod-1", new Meta("zone-a", ["zone-a"])), ("pod-2", new Meta("zone-b")), ("pod-3", new Meta("zone-b", ["zone-b"])));

        var picker = await world.ReadyPickerWith(3, local: 3);

        Assert.That(picker.OtherEndpoints, Is.Empty);
        Assert.That(Picks(picker, 9).Values, Is.EqualTo(new[] { 3, 3, 3 }));
        var all = logs.Entries.Where(e => e.EventId.Id == 414).ToList();
        Assert.That(all, Has.Count.EqualTo(1));
        Assert.That(all[0].Message, Does.Contain($"{pods.EndPoint("pod-2")} has no zone hint"));
    }

    [Test]
    public async Task PreferLocal_OneLocalOfNineInThreeZones_TheLocalEndpointTakesAThirdOfThePicks()
    {
        // Zone a holds 1/9 of the endpoints, its fair share is 1/3: its clients send 1/3 of their calls to its pod and
        // 2/3 to the 8 others, so that every pod gets the same load when clients are spread evenly over the zones.
        await using var pods = await GreeterPods.StartAsync(9);
        await using var world = Create(PreferLocalInZoneA(), Cycle(3));
        world.Insert(pods, [.. pods.Names.Select((name, i) => (name, new Meta(i == 0 ? "zone-a" : i <= 4 ? "zone-b" : "zone-c")))]);

        var picker = await world.ReadyPickerWith(9, local: 1);
        var picks = Picks(picker, 36);

        Assert.That(picker.LocalShare, Is.EqualTo(1.0 / 3).Within(1e-6));
        Assert.That(picks[Host(pods, "pod-1")], Is.EqualTo(12));
        Assert.That(pods.Names.Skip(1).Select(n => picks[Host(pods, n)]), Is.All.EqualTo(3));
    }

    [Test]
    public async Task PreferLocal_ExplicitMinLocalShare_ReplacesOneOverTheZoneCount()
    {
        // 1 of 4 in two zones: the default (1/2) would give the local pod half the picks; MinLocalShare 1 gives 1/4.
        await using var pods = await GreeterPods.StartAsync(4);
        await using var world = Create(PreferLocalInZoneA(minLocalShare: 1.0), Cycle(4));
        world.Insert(pods, ("pod-1", new Meta("zone-a")), ("pod-2", new Meta("zone-b")), ("pod-3", new Meta("zone-b")), ("pod-4", new Meta("zone-b")));

        var picker = await world.ReadyPickerWith(4, local: 1);
        var picks = Picks(picker, 12);

        Assert.That(picker.LocalShare, Is.EqualTo(0.25));
        Assert.That(picks.Values, Is.All.EqualTo(3));
    }

    [Test]
    public async Task PreferLocal_ZoneHoldsItsShare_EveryPickStaysLocal()
    {
        await using var pods = await GreeterPods.StartAsync(4);
        await using var world = Create(PreferLocalInZoneA(), Cycle(4));
        world.Insert(pods, ("pod-1", new Meta("zone-a")), ("pod-2", new Meta("zone-a")), ("pod-3", new Meta("zone-b")), ("pod-4", new Meta("zone-b")));

        var picker = await world.ReadyPickerWith(4, local: 2);
        var picks = Picks(picker, 12);

        Assert.That(picker.LocalShare, Is.EqualTo(1.0));
        Assert.That(picks, Is.EquivalentTo(new Dictionary<string, int> { [Host(pods, "pod-1")] = 6, [Host(pods, "pod-2")] = 6 }));
    }

    [Test]
    public async Task Hints_MovedByAMetadataOnlyUpdate_TheLocalTierFollows_OnTheSameSubchannels()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA);
        world.Insert(pods, ("pod-1", new Meta("zone-a", ["zone-a"])), ("pod-2", new Meta("zone-b", ["zone-b"])), ("pod-3", new Meta("zone-c", ["zone-c"])));
        var before = await world.ReadyPickerWith(3, local: 1);
        Assert.That(before.LocalEndpoints.Select(HostOf), Is.EqualTo(new[] { Host(pods, "pod-1") }));

        world.Update(pods, "pod-1", new Meta("zone-a", ["zone-b"]));
        world.Update(pods, "pod-2", new Meta("zone-b", ["zone-a"]));
        var after = await world.ReadyPicker(
            p => p.Subchannels.Count == 3 && p.LocalEndpoints.Count == 1 && HostOf(p.LocalEndpoints[0]) == Host(pods, "pod-2"),
            "pod-2 is the local tier");

        Assert.That(Picks(after, 4), Is.EquivalentTo(new Dictionary<string, int> { [Host(pods, "pod-2")] = 4 }));
        Assert.That(world.Created, Has.Count.EqualTo(3), "no subchannel was created for a metadata change");
        Assert.That(after.Subchannels, Is.EquivalentTo(before.Subchannels));
    }

    [Test]
    public async Task Hints_MovingBackAndForth_CallsFollow_WithoutReconnecting()
    {
        using var recorder = new InstrumentRecorder();
        var service = $"topo-{Guid.NewGuid():N}"[..20];
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = Create(HintsInZoneA, service: service);
        var client = new Greeter.GreeterClient(world.Channel);
        world.Insert(pods, ("pod-1", new Meta("zone-a", ["zone-a"])), ("pod-2", new Meta("zone-b", ["zone-b"])));
        await world.ReadyPicker(p => p.Subchannels.Count == 2 && IsLocal(p, pods, "pod-1"), "pod-1 local");
        var first = await Served(client, 3);

        world.Update(pods, "pod-1", new Meta("zone-a", ["zone-b"]));
        world.Update(pods, "pod-2", new Meta("zone-b", ["zone-a"]));
        await world.ReadyPicker(p => p.Subchannels.Count == 2 && IsLocal(p, pods, "pod-2"), "pod-2 local");
        var second = await Served(client, 3);

        world.Update(pods, "pod-1", new Meta("zone-a", ["zone-a"]));
        world.Update(pods, "pod-2", new Meta("zone-b", ["zone-b"]));
        await world.ReadyPicker(p => p.Subchannels.Count == 2 && IsLocal(p, pods, "pod-1"), "pod-1 local again");
        var third = await Served(client, 3);

        Assert.That((first, second, third), Is.EqualTo(("pod-1", "pod-2", "pod-1")));
        Assert.That(world.Created, Has.Count.EqualTo(2));
        foreach (var name in new[] { "pod-1", "pod-2" })
        {
            var states = recorder.ForService("k8slb.subchannel.state_changes", service).Where(m => m.Matches([(PeerAddressTag, Host(pods, name))])).Select(m => m.Tag(SubchannelStateTag));
            Assert.That(states, Is.EqualTo(new[] { "connecting", "ready" }), $"{name}'s subchannel connected once");
        }
    }

    [Test]
    public async Task Picks_CarryTheLocalityOfTheirEndpoint()
    {
        using var recorder = new InstrumentRecorder();
        var service = $"topo-{Guid.NewGuid():N}"[..20];
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA, service: service);
        world.Insert(pods, ("pod-1", new Meta("zone-a", ["zone-a"])), ("pod-2", new Meta("zone-b", ["zone-b"])), ("pod-3", new Meta(null, ["zone-b"])));
        var picker = await world.ReadyPickerWith(3, local: 1);

        Picks(picker, 3);
        Endpoint(picker, pods, "pod-1").Health.Exclude(ExclusionReasons.Ejected);
        Picks(picker, 4);

        Assert.That(recorder.Sum("k8slb.endpoint.picks", service, (PeerAddressTag, Host(pods, "pod-1")), (LocalityTag, Locality.SameZone)), Is.EqualTo(3));
        Assert.That(recorder.Sum("k8slb.endpoint.picks", service, (PeerAddressTag, Host(pods, "pod-2")), (LocalityTag, Locality.OtherZone)), Is.EqualTo(2));
        Assert.That(recorder.Sum("k8slb.endpoint.picks", service, (PeerAddressTag, Host(pods, "pod-3")), (LocalityTag, Locality.Unknown)), Is.EqualTo(2));
    }

    [Test]
    public async Task Locality_FollowsAZoneLabelChange()
    {
        using var recorder = new InstrumentRecorder();
        var service = $"topo-{Guid.NewGuid():N}"[..20];
        await using var pods = await GreeterPods.StartAsync(1);
        await using var world = Create(new TopologyPolicy(TopologyMode.Off, "zone-a", null, null), service: service);
        world.Insert(pods, ("pod-1", new Meta("zone-b")));
        var picker = await world.ReadyPickerWith(1, local: 1);
        Picks(picker, 1);

        world.Update(pods, "pod-1", new Meta("zone-a"));
        await Eventually.That(() => { Picks(picker, 1); return recorder.Sum("k8slb.endpoint.picks", service, (LocalityTag, Locality.SameZone)) > 0; }, "a pick tagged same_zone");

        Assert.That(recorder.Sum("k8slb.endpoint.picks", service, (LocalityTag, Locality.OtherZone)), Is.GreaterThanOrEqualTo(1));
        Assert.That(world.Created, Has.Count.EqualTo(1));
    }

    private static bool IsLocal(RoundRobinPicker picker, GreeterPods pods, string name) =>
        picker.LocalEndpoints.Count == 1 && HostOf(picker.LocalEndpoints[0]) == Host(pods, name);

    /// <summary>Makes calls; the pod that served them all (or a list when several did).</summary>
    private static async Task<string> Served(Greeter.GreeterClient client, int calls)
    {
        var served = new SortedSet<string>();
        for (var i = 0; i < calls; i++) served.Add((await client.SayHelloAsync(new HelloRequest { Name = "x" })).Pod);
        return string.Join(",", served);
    }

    private static (string Name, Meta Meta)[] SixWithZoneAHintsOn(params string[] local) =>
    [
        .. Enumerable.Range(1, 6).Select(i =>
        {
            var name = $"pod-{i}";
            var zone = local.Contains(name) ? "zone-a" : i % 2 == 0 ? "zone-b" : "zone-c";
            return (name, new Meta(zone, [zone]));
        }),
    ];

    private static int Count(CapturingLoggerFactory logs, int eventId) => logs.Entries.Count(e => e.EventId.Id == eventId);
}
