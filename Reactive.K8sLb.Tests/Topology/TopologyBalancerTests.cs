using System.Net;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Topology;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Tests.Topology.TopologyWorld;

namespace Reactive.K8sLb.Tests.Topology;

/// <summary>
/// The balancer's routing log lines (event ids 413 to 419) over real subchannels: one line when routing switches
/// between the local endpoints and all of them, saying why, and none while the routing stays what it was.
/// </summary>
public sealed class TopologyBalancerTests
{
    private static readonly TopologyPolicy HintsInZoneA = new(TopologyMode.Hints, "zone-a", null, null);

    [Test]
    public async Task Hints_LocalRouting_LogsTheRule()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, HintedOneLocalOfThree);

        await world.ReadyPickerWith(3, local: 1);

        var last = Topology(logs)[^1];
        Assert.That((last.EventId.Id, last.Level), Is.EqualTo((413, LogLevel.Information)));
        Assert.That(last.Message, Does.Contain("hinted for zone zone-a"));
    }

    [Test]
    public async Task Hints_AHintDisappearsAndReturns_LogsAllOnceThenLocalOnce()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, HintedOneLocalOfThree);
        await world.ReadyPickerWith(3, local: 1);
        var mark = Topology(logs).Count;

        world.Update(pods, "pod-2", new Meta("zone-b"));
        await world.ReadyPickerWith(3, local: 3);
        var all = Topology(logs).Skip(mark).ToList();

        Assert.That(all.Select(e => (e.EventId.Id, e.Level)), Is.EqualTo(new[] { (414, LogLevel.Information) }));
        Assert.That(all[0].Message, Does.Contain($"{pods.EndPoint("pod-2")} has no zone hint"));

        mark = Topology(logs).Count;
        world.Update(pods, "pod-2", new Meta("zone-b", ["zone-b"]));
        await world.ReadyPickerWith(3, local: 1);

        Assert.That(Topology(logs).Skip(mark).Select(e => e.EventId.Id), Is.EqualTo(new[] { 413 }));
    }

    [Test]
    public async Task Hints_NoneAnywhere_LogsAtDebugOnly()
    {
        // A Service without trafficDistribution: nothing to say at Information.
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, ("pod-1", new Meta("zone-a")), ("pod-2", new Meta("zone-b")));

        await world.ReadyPickerWith(2, local: 2);

        Assert.That(Topology(logs).Select(e => (e.EventId.Id, e.Level)).Distinct(), Is.EqualTo(new[] { (419, LogLevel.Debug) }));
    }

    [Test]
    public async Task PreferLocal_TooFewLocalEndpoints_LogsTheSpillOver()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(4);
        await using var world = Create(new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", null, null), logs: logs);
        world.Insert(pods, ("pod-1", new Meta("zone-a")), ("pod-2", new Meta("zone-b")), ("pod-3", new Meta("zone-b")), ("pod-4", new Meta("zone-b")));

        await world.ReadyPickerWith(4, local: 1);

        var last = Topology(logs)[^1];
        Assert.That(last.EventId.Id, Is.EqualTo(415));
        Assert.That(last.Message, Is.EqualTo("Topology: 50% of calls go to the 1 endpoints in zone zone-a, the rest to the other 3: zone zone-a holds 25% of the endpoints, below its local share of 50%."));
    }

    [Test]
    public async Task Hints_LocalEndpointUnreachable_WarnsAndRoutesToTheOthers()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = Create(HintsInZoneA, logs: logs);
        var nowhere = new IPEndPoint(IPAddress.Parse("127.0.0.60"), LoopbackGrpcPod.FreePort(IPAddress.Parse("127.0.0.60")));
        world.Insert(nowhere, new Meta("zone-a", ["zone-a"]));
        world.Insert(pods, ("pod-1", new Meta("zone-b", ["zone-b"])), ("pod-2", new Meta("zone-c", ["zone-c"])));

        var picker = await world.ReadyPickerWith(2, local: 2);
        await Eventually.That(() => Topology(logs).Any(e => e.EventId.Id == 416), "the warning, once the local endpoint failed to connect");

        Assert.That(picker.OtherEndpoints, Is.Empty, "the others are the only tier");
        var unreachable = Topology(logs).Where(e => e.EventId.Id == 416).ToList();
        Assert.That(unreachable.Select(e => e.Level), Is.EqualTo(new[] { LogLevel.Warning }));
        Assert.That(unreachable[0].Message, Does.Contain("(1 hinted for zone zone-a").And.Contain("calls go to the other"));
    }

    [Test]
    public async Task Hints_LocalEndpointStillConnecting_NoWarning_ThenLocal()
    {
        // Another zone's endpoints connected first (as at half the starts of a client): calls go there meanwhile, which
        // is no failure to warn about.
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, ("pod-2", new Meta("zone-b", ["zone-b"])), ("pod-3", new Meta("zone-c", ["zone-c"])));
        await world.ReadyPickerWith(2, local: 2);

        world.Insert(pods, ("pod-1", new Meta("zone-a", ["zone-a"])));
        await world.ReadyPickerWith(3, local: 1);

        Assert.That(Topology(logs).Where(e => e.Level == LogLevel.Warning), Is.Empty);
        Assert.That(Topology(logs)[^1].EventId.Id, Is.EqualTo(413));
    }

    [Test]
    public async Task UnchangedRouting_AMetadataChangeThatMovesNothing_LogsNothingMore()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, HintedOneLocalOfThree);
        await world.ReadyPickerWith(3, local: 1);
        var (topologyLines, updates) = (Topology(logs).Count, Updates(logs));

        world.Update(pods, "pod-3", new Meta("zone-c", ["zone-c"], PodName: "renamed"));
        await Eventually.That(() => Updates(logs) > updates, "the balancer took the new address list");

        Assert.That(Topology(logs), Has.Count.EqualTo(topologyLines));
    }

    [Test]
    public async Task PreferLocal_AnotherZonesEndpointDisconnects_LogsNoNewSpillOver()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(5);
        await using var world = Create(new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", null, null), logs: logs);
        world.Insert(pods, ("pod-1", new Meta("zone-a")), ("pod-2", new Meta("zone-b")), ("pod-3", new Meta("zone-b")), ("pod-4", new Meta("zone-b")), ("pod-5", new Meta("zone-b")));
        await world.ReadyPickerWith(5, local: 1);
        var topologyLines = Topology(logs).Count;

        await pods.StopAsync("pod-5");
        await world.ReadyPickerWith(4, local: 1);

        foreach (var line in Topology(logs)) TestContext.Out.WriteLine($"{line.EventId.Id} {line.Level} {line.Message}");
        Assert.That(Topology(logs).Skip(topologyLines), Is.Empty, "an endpoint of another zone disconnecting is no routing change");
    }

    [Test]
    public async Task UnchangedRouting_AnotherZonesEndpointDisconnects_LogsNothingMore()
    {
        // Calls still go to the same local endpoints: connectivity of the others is not a routing change.
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(4);
        await using var world = Create(HintsInZoneA, logs: logs);
        world.Insert(pods, ("pod-1", new Meta("zone-a", ["zone-a"])), ("pod-2", new Meta("zone-a", ["zone-a"])), ("pod-3", new Meta("zone-b", ["zone-b"])), ("pod-4", new Meta("zone-b", ["zone-b"])));
        await world.ReadyPickerWith(4, local: 2);
        var topologyLines = Topology(logs).Count;

        await pods.StopAsync("pod-4");
        await world.ReadyPickerWith(3, local: 2);

        Assert.That(Topology(logs).Skip(topologyLines), Is.Empty);
    }

    [Test]
    public async Task ConfigTopology_ReachesTheBalancerThroughThePolicyFactory_CallsStayInTheClientZone()
    {
        await using var pods = await GreeterPods.StartAsync(4);
        var config = new NewestFirstRoundRobinConfig { Topology = new TopologyOptions { Zone = "zone-a", NodeName = "" } };
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { config } } });
        var client = new Greeter.GreeterClient(channel);
        foreach (var (name, zone) in new[] { ("pod-1", "zone-a"), ("pod-2", "zone-b"), ("pod-3", "zone-a"), ("pod-4", "zone-b") })
        {
            var address = BalancerAddresses.Default(pods.EndPoint(name));
            address.Attributes.Set(KubernetesEndpoint.AttributeKey, new KubernetesEndpoint(pods.EndPoint(name)) { Zone = zone, ZoneHints = [zone] });
            channel.Updates.OnNext(Change.Insert(address));
        }

        // Until a local endpoint is connected, calls go to whichever is (availability first).
        await Eventually.That(async () => (await client.SayHelloAsync(new HelloRequest { Name = "x" })).Pod is "pod-1" or "pod-3", Eventually.DefaultTimeout, "a call served in zone-a");
        pods.ResetCounts();
        for (var i = 0; i < 12; i++) await client.SayHelloAsync(new HelloRequest { Name = "x" });

        Assert.That(pods.HitsOf("pod-2") + pods.HitsOf("pod-4"), Is.Zero);
        Assert.That(pods.HitsOf("pod-1") + pods.HitsOf("pod-3"), Is.EqualTo(12));
    }

    private static readonly (string Name, Meta Meta)[] HintedOneLocalOfThree =
        [("pod-1", new Meta("zone-a", ["zone-a"])), ("pod-2", new Meta("zone-b", ["zone-b"])), ("pod-3", new Meta("zone-c", ["zone-c"]))];

    private static List<(LogLevel Level, EventId EventId, string Message)> Topology(CapturingLoggerFactory logs) =>
        [.. logs.Entries.Where(e => e.EventId.Id is >= 413 and <= 419)];

    private static int Updates(CapturingLoggerFactory logs) => logs.Entries.Count(e => e.EventId.Id == 401);
}
