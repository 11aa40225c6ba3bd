using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.EndToEnd;

/// <summary>
/// Zone- and node-aware routing (issue 14) through the whole product: the API emulator writes EndpointSlices with
/// zones, nodes and the hints of the Service's trafficDistribution, the real KubernetesClient watches them over HTTP,
/// and a <see cref="BalancedChannel"/> in zone-a calls nine real gRPC pods on 127.0.0.2-10 whose replies name them.
/// Shares are counted from the replies, and the <c>k8slb.locality</c> tag of <c>k8slb.endpoint.picks</c> is read with a
/// meter listener (series told apart by a Service name per test). The pods and the emulator are shared by the tests;
/// each test has its own Service and channel.
/// </summary>
/// <remarks>
/// <see cref="TopologyOptions.Zone"/> and <see cref="TopologyOptions.NodeName"/> are always set in code (an empty
/// string for "unknown"), so the process environment (<c>K8SLB_ZONE</c>, <c>K8SLB_NODE_NAME</c>) plays no part: fixtures
/// of this suite run in parallel, so no test may set those variables. Their reader is covered by unit tests.
/// </remarks>
public sealed class ZoneRoutingEndToEndTests
{
    private const string Ns = "zones";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static int s_services;

    private KubernetesApiEmulator _emulator = null!;
    private GreeterPods _pods = null!;

    /// <summary>pod-1..3 in zone-a, pod-4..6 in zone-b, pod-7..9 in zone-c; pod-1 and pod-2 share node-a1.</summary>
    private static readonly Placement[] ThreeByThree =
    [
        new("pod-1", "zone-a", "node-a1"), new("pod-2", "zone-a", "node-a1"), new("pod-3", "zone-a", "node-a2"),
        new("pod-4", "zone-b", "node-b1"), new("pod-5", "zone-b", "node-b2"), new("pod-6", "zone-b", "node-b3"),
        new("pod-7", "zone-c", "node-c1"), new("pod-8", "zone-c", "node-c2"), new("pod-9", "zone-c", "node-c3"),
    ];

    /// <summary>One pod in zone-a (pod-1), four in zone-b, four in zone-c.</summary>
    private static readonly Placement[] OneFourFour =
    [
        new("pod-1", "zone-a", "node-a1"),
        new("pod-2", "zone-b", "node-b1"), new("pod-3", "zone-b", "node-b2"), new("pod-4", "zone-b", "node-b3"), new("pod-5", "zone-b", "node-b4"),
        new("pod-6", "zone-c", "node-c1"), new("pod-7", "zone-c", "node-c2"), new("pod-8", "zone-c", "node-c3"), new("pod-9", "zone-c", "node-c4"),
    ];

    [OneTimeSetUp]
    public async Task StartPods()
    {
        _emulator = await KubernetesApiEmulator.StartAsync();
        _pods = await GreeterPods.StartAsync(9);
    }

    [OneTimeTearDown]
    public async Task StopPods()
    {
        await _pods.DisposeAsync();
        await _emulator.DisposeAsync();
    }

    [Test]
    public async Task HintsPresent_ZoneAClient_EveryCallStaysInZoneA_AndEveryPickIsSameZone()
    {
        await using var zoned = Start(ThreeByThree, "PreferSameZone", Topology(TopologyMode.Hints, "zone-a"));
        await zoned.UntilServedBy(Zone(ThreeByThree, "zone-a"));

        var (replies, picks) = await zoned.Measure(() => zoned.Calls(300));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Keys, Is.SubsetOf(Zone(ThreeByThree, "zone-a")), "pods that answered");
            Assert.That(replies.Values.Sum(), Is.EqualTo(300));
            Assert.That(picks, Is.EqualTo(new Dictionary<string, double> { ["same_zone"] = 300 }), "k8slb.endpoint.picks by k8slb.locality");
            Assert.That(zoned.Logs, Has.Member("Topology: calls go to 3 of 9 endpoints, hinted for zone zone-a, kube-proxy's zone rule."));
        }
    }

    [TestCase(TopologyMode.Off, "zone-a", "other_zone", TestName = "HintsPresent_ModeOff_CallsReachEveryZone")]
    [TestCase(TopologyMode.Hints, "", "unknown", TestName = "HintsPresent_ClientZoneUnknown_CallsReachEveryZone")]
    public async Task HintsPresent_WithoutTheFeature_CallsReachEveryZone(TopologyMode mode, string zone, string otherLocality)
    {
        await using var zoned = Start(ThreeByThree, "PreferSameZone", Topology(mode, zone));
        await zoned.UntilServedBy(ThreeByThree.Select(p => p.Pod));

        var (replies, picks) = await zoned.Measure(() => zoned.Calls(180));

        var inZoneA = Zone(ThreeByThree, "zone-a").Sum(p => replies.GetValueOrDefault(p));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Keys, Is.EquivalentTo(ThreeByThree.Select(p => p.Pod)), "every pod of every zone answers");
            // Round robin over 9: 60 of 180 in zone-a when the picker stays; 120 leaves a wide margin for a restart.
            Assert.That(inZoneA, Is.LessThan(120), "calls answered in zone-a");
            Assert.That(picks.GetValueOrDefault(otherLocality), Is.EqualTo(zone == string.Empty ? 180 : 180 - inZoneA), $"picks tagged {otherLocality}");
        }
    }

    [Test]
    public async Task EveryZoneAPodTurnsNotReady_WhileFourCallersCall_CallsMoveToZonesBAndC_WithNoFailure()
    {
        await using var zoned = Start(ThreeByThree, "PreferSameZone", Topology(TopologyMode.Hints, "zone-a"));
        await zoned.UntilServedBy(Zone(ThreeByThree, "zone-a"));
        var zoneA = Zone(ThreeByThree, "zone-a");
        var load = ZoneLoad.Start(zoned.Client);
        await load.UntilAnswered(40);

        // The servers keep running: only the EndpointSlice changes.
        zoned.Service.Batch(s => { foreach (var pod in zoneA) s.SetReady(Ip(pod), false); });
        await Eventually.That(() => load.Answers.Any(a => !zoneA.Contains(a)), Timeout, "a zone-b or zone-c pod answers");
        var afterMove = load.Answers.Count;
        await load.UntilAnswered(afterMove + 200);
        await load.Stop();

        var tail = load.Answers.Skip(afterMove + 100).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(load.Failures, Is.Empty, "failed calls");
            Assert.That(tail, Is.Not.Empty);
            Assert.That(tail.Intersect(zoneA), Is.Empty, "zone-a pods answer nothing once their endpoints are not ready");
            Assert.That(tail.Distinct(), Is.EquivalentTo(ThreeByThree.Select(p => p.Pod).Except(zoneA)), "every zone-b and zone-c pod answers");
        }
    }

    [Test]
    public async Task OneZoneAEndpointWithoutHints_EveryEndpointIsUsed_AndThenLocalAgainWhenTheHintReturns()
    {
        await using var zoned = Start(ThreeByThree, "PreferSameZone", Topology(TopologyMode.Hints, "zone-a"));
        await zoned.UntilServedBy(Zone(ThreeByThree, "zone-a"));

        // kube-proxy's rule: one ready endpoint without a zone hint turns topology off for the whole Service.
        zoned.Service.OmitHints(Ip("pod-1"));
        await zoned.UntilServedBy(ThreeByThree.Select(p => p.Pod));
        var (replies, picks) = await zoned.Measure(() => zoned.Calls(180));

        var otherZones = ThreeByThree.Where(p => p.Zone != "zone-a").Sum(p => replies.GetValueOrDefault(p.Pod));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Keys, Is.EquivalentTo(ThreeByThree.Select(p => p.Pod)), "every pod answers");
            Assert.That(otherZones, Is.GreaterThan(0));
            Assert.That(picks.GetValueOrDefault("other_zone"), Is.EqualTo(otherZones), "picks tagged other_zone");
            Assert.That(picks.GetValueOrDefault("same_zone"), Is.EqualTo(180 - otherZones), "picks tagged same_zone");
            Assert.That(zoned.Logs, Has.Member($"Topology: calls go to all 9 endpoints: endpoint {Ip("pod-1")}:{_pods.Port} has no zone hint, so kube-proxy's rule uses every endpoint."));
        }

        zoned.Service.OmitHints(Ip("pod-1"), omit: false);
        await Eventually.That(async () => (await zoned.Measure(() => zoned.Calls(30))).Replies.Keys.All(Zone(ThreeByThree, "zone-a").Contains), Timeout, "30 calls in a row stay in zone-a");
    }

    [Test]
    public async Task PreferSameNode_ClientOnNodeA1_OnlyThatNodesPodsAnswer()
    {
        await using var zoned = Start(ThreeByThree, "PreferSameNode", Topology(TopologyMode.Hints, "zone-a", node: "node-a1"));
        await zoned.UntilServedBy(["pod-1", "pod-2"]);

        var (replies, picks) = await zoned.Measure(() => zoned.Calls(100));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Keys, Is.EquivalentTo(new[] { "pod-1", "pod-2" }), "pods that answered");
            Assert.That(replies.Values.Sum(), Is.EqualTo(100));
            Assert.That(picks, Is.EqualTo(new Dictionary<string, double> { ["same_zone"] = 100 }), "k8slb.endpoint.picks by k8slb.locality");
            Assert.That(zoned.Logs, Has.Member("Topology: calls go to 2 of 9 endpoints, hinted for node node-a1, kube-proxy's node rule."));
        }
    }

    [Test]
    public async Task PreferSameNode_ClientOnANodeWithoutPods_FallsBackToTheZoneRule()
    {
        await using var zoned = Start(ThreeByThree, "PreferSameNode", Topology(TopologyMode.Hints, "zone-a", node: "node-a9"));
        await zoned.UntilServedBy(Zone(ThreeByThree, "zone-a"));

        var (replies, _) = await zoned.Measure(() => zoned.Calls(90));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Keys, Is.SubsetOf(Zone(ThreeByThree, "zone-a")), "pods that answered");
            Assert.That(zoned.Logs, Has.Member("Topology: calls go to 3 of 9 endpoints, hinted for zone zone-a, kube-proxy's zone rule."));
        }
    }

    [Test]
    public async Task TrafficDistributionSetAndClearedWhileRunning_RoutingFollowsOnTheSameChannel()
    {
        await using var zoned = Start(ThreeByThree, trafficDistribution: null, Topology(TopologyMode.Hints, "zone-a"));
        await zoned.UntilServedBy(ThreeByThree.Select(p => p.Pod));

        // Only the endpoints' hints change (a metadata-only update of every address): the subchannels stay.
        zoned.Service.TrafficDistribution = "PreferSameZone";
        await Eventually.That(async () => (await zoned.Calls(30)).Keys.All(Zone(ThreeByThree, "zone-a").Contains), Timeout, "30 calls in a row stay in zone-a");
        var (local, _) = await zoned.Measure(() => zoned.Calls(90));
        zoned.Service.TrafficDistribution = null;
        await zoned.UntilServedBy(ThreeByThree.Where(p => p.Zone != "zone-a").Select(p => p.Pod));

        Assert.That(local.Keys, Is.SubsetOf(Zone(ThreeByThree, "zone-a")), "pods that answered while hinted");
    }

    [Test]
    public async Task EveryZoneAPodFailsItsCalls_TheyAreEjected_AndCallsGoToZonesBAndC()
    {
        await using var zoned = Start(ThreeByThree, "PreferSameZone", Topology(TopologyMode.Hints, "zone-a"));
        await zoned.UntilServedBy(Zone(ThreeByThree, "zone-a"));
        var zoneA = Zone(ThreeByThree, "zone-a");
        var failures = 0;
        try
        {
            // Kubernetes still lists them ready, with their hints: only outlier ejection (5 failures in a row) sees it.
            foreach (var pod in zoneA) _pods.SetFault(pod, StatusCode.Unavailable);
            await Eventually.That(async () =>
            {
                try
                {
                    return (await zoned.Calls(30)).Keys.All(p => !zoneA.Contains(p));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    failures++;
                    return false;
                }
            }, Timeout, "30 calls in a row answered outside zone-a");
        }
        finally
        {
            foreach (var pod in zoneA) _pods.SetFault(pod, null);
        }

        using (Assert.EnterMultipleScope())
        {
            // One call at a time, round robin over the three: each is ejected at its 5th failure in a row, and no call
            // reaches zone-a after the third ejection.
            Assert.That(failures, Is.EqualTo(15), "failed calls: 3 zone-a pods x 5 failures in a row");
            Assert.That(zoned.Logs, Has.Member("Topology: every local endpoint is excluded (ejected or not serving); calls go to the other 6 endpoints until one is readmitted."));
        }
    }

    /// <summary>Five pods in zone-a (pod-1..5), two in zone-b, two in zone-c.</summary>
    private static readonly Placement[] FiveTwoTwo =
    [
        new("pod-1", "zone-a", "node-a1"), new("pod-2", "zone-a", "node-a2"), new("pod-3", "zone-a", "node-a3"), new("pod-4", "zone-a", "node-a4"), new("pod-5", "zone-a", "node-a5"),
        new("pod-6", "zone-b", "node-b1"), new("pod-7", "zone-b", "node-b2"),
        new("pod-8", "zone-c", "node-c1"), new("pod-9", "zone-c", "node-c2"),
    ];

    // Found in review: the ejection cap (50% of 9 = 4) leaves one failing zone-a pod; before the local tier kept only
    // what its usable endpoints can take (LocalTierHealth, Envoy's overprovisioning), it took every call of the zone-a
    // client (300 of 300 failed). Mode = Off is the reference (about 20 of the last 100 fail: 1 failing pod of 5 used).
    [TestCase(TopologyMode.Hints)]
    [TestCase(TopologyMode.Off)]
    public async Task EveryPodOfALocalMajorityFails_CallsLeaveTheZone(TopologyMode mode)
    {
        await using var zoned = Start(FiveTwoTwo, "PreferSameZone", Topology(mode, "zone-a"));
        await zoned.UntilServedBy(mode == TopologyMode.Off ? FiveTwoTwo.Select(p => p.Pod) : Zone(FiveTwoTwo, "zone-a"));
        var zoneA = Zone(FiveTwoTwo, "zone-a");
        var outcomes = new List<string>();
        try
        {
            // Kubernetes still lists them ready, with their hints; outlier ejection may eject at most 50% of 9 = 4.
            foreach (var pod in zoneA) _pods.SetFault(pod, StatusCode.Unavailable);
            for (var i = 0; i < 300; i++)
            {
                try
                {
                    outcomes.Add((await zoned.Client.SayHelloAsync(new HelloRequest { Name = "x" })).Pod);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    outcomes.Add("failed");
                }
            }
        }
        finally
        {
            foreach (var pod in zoneA) _pods.SetFault(pod, null);
        }

        var last = outcomes.Skip(200).ToList();
        TestContext.Out.WriteLine($"{mode}: failed {outcomes.Count(o => o == "failed")} of 300, {last.Count(o => o == "failed")} of the last 100; logs: {string.Join(" | ", zoned.Logs.TakeLast(3))}");
        Assert.That(last.Count(o => o == "failed"), Is.LessThan(50),
            "with 5 of 9 endpoints local and failing, the ejection cap leaves one failing local endpoint: the local tier must keep only what its one usable endpoint can take (1.4 x 1/5)");
    }

    [Test]
    public async Task PreferLocal_OnePodInZoneA_FourInB_FourInC_ZoneAsPodReceivesAboutAThird()
    {
        // No trafficDistribution: PreferLocal reads the endpoints' zones.
        await using var zoned = Start(OneFourFour, trafficDistribution: null, Topology(TopologyMode.PreferLocal, "zone-a"));
        await zoned.UntilServedBy(OneFourFour.Select(p => p.Pod));

        var (replies, picks) = await zoned.Measure(() => zoned.Calls(900, callers: 4));

        // zone-a holds 1/9 of the endpoints, its fair share is 1/3: pod-1 takes 1/3 of the calls, 300 of 900 expected,
        // binomial sd = sqrt(900 * 1/3 * 2/3) = 14.1. The band 180..450 is more than 8 sd either side.
        var local = replies.GetValueOrDefault("pod-1");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies.Values.Sum(), Is.EqualTo(900));
            Assert.That(local, Is.InRange(180, 450), "calls answered by pod-1, zone-a's only pod");
            Assert.That(replies.Keys, Is.EquivalentTo(OneFourFour.Select(p => p.Pod)), "the spill-over reaches every other pod");
            Assert.That(picks.GetValueOrDefault("same_zone"), Is.EqualTo(local), "picks tagged same_zone");
            Assert.That(zoned.Logs, Has.Member("Topology: 33% of calls go to the 1 endpoints in zone zone-a, the rest to the other 8: zone zone-a holds 11% of the endpoints, below its local share of 33%."));
        }
    }

    [Test]
    public async Task Hints_OnePodInZoneA_FourInB_FourInC_ZoneAsPodReceivesEverything()
    {
        await using var zoned = Start(OneFourFour, "PreferSameZone", Topology(TopologyMode.Hints, "zone-a"));
        await zoned.UntilServedBy(["pod-1"]);

        var (replies, picks) = await zoned.Measure(() => zoned.Calls(900, callers: 4));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(replies, Is.EqualTo(new Dictionary<string, int> { ["pod-1"] = 900 }), "kube-proxy's rule: the zone's only pod takes all its calls");
            Assert.That(picks, Is.EqualTo(new Dictionary<string, double> { ["same_zone"] = 900 }), "k8slb.endpoint.picks by k8slb.locality");
        }
    }

    private static TopologyOptions Topology(TopologyMode mode, string zone, string node = "") => new() { Mode = mode, Zone = zone, NodeName = node };

    private static string[] Zone(Placement[] placements, string zone) => [.. placements.Where(p => p.Zone == zone).Select(p => p.Pod)];

    private string Ip(string pod) => _pods.EndPoint(pod).Address.ToString();

    private Zoned Start(Placement[] placements, string? trafficDistribution, TopologyOptions topology)
    {
        var name = $"zoned-{Interlocked.Increment(ref s_services)}";
        var service = _emulator.AddService(Ns, name, new EmulatedServicePort("grpc", _pods.Port));
        service.TrafficDistribution = trafficDistribution;
        service.Batch(s => { foreach (var p in placements) s.AddPod(Ip(p.Pod), name: p.Pod, zone: p.Zone, node: p.Node); });
        return new Zoned(_emulator, service, topology);
    }

    private sealed record Placement(string Pod, string Zone, string Node);

    /// <summary>One Service on the shared pods, a channel in zone-a watching it, and the meter readings of its picks.</summary>
    private sealed class Zoned : IAsyncDisposable
    {
        private readonly CapturingLoggerFactory _logs = new();
        private readonly InstrumentRecorder _recorder = new();
        private readonly BalancedChannel _channel;
        private readonly IDisposable _subscription;

        public Zoned(KubernetesApiEmulator emulator, EmulatedService service, TopologyOptions topology)
        {
            Service = service;
            _channel = BalancedChannel.Create(new GrpcChannelOptions
            {
                LoggerFactory = _logs,
                ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig { Topology = topology } } },
            });
            Client = new Greeter.GreeterClient(_channel);
            var config = new DiscoveryConfig(service.Name, "grpc")
            {
                Namespace = service.Namespace,
                ClientConfiguration = emulator.ClientConfiguration,
                Debounce = TimeSpan.FromMilliseconds(20),
                Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
            };
            _subscription = KubernetesDiscovery.Observe(config).ApplyTo(_channel);
        }

        public EmulatedService Service { get; }

        public Greeter.GreeterClient Client { get; }

        /// <summary>The balancer's topology lines (event ids 413-419).</summary>
        public IReadOnlyList<string> Logs => [.. _logs.Entries.Where(e => e.EventId.Id is >= 413 and <= 419).Select(e => e.Message)];

        /// <summary>Calls until each of <paramref name="pods"/> has answered one call (so its subchannel is Ready).</summary>
        public async Task UntilServedBy(IEnumerable<string> pods)
        {
            var waiting = new HashSet<string>(pods);
            await Eventually.That(async () =>
            {
                waiting.Remove(await Call());
                return waiting.Count == 0;
            }, Timeout, $"calls reach {string.Join(", ", pods)}");
        }

        /// <summary>Makes <paramref name="count"/> calls over <paramref name="callers"/> concurrent callers; returns
        /// the answers per pod.</summary>
        public async Task<Dictionary<string, int>> Calls(int count, int callers = 1)
        {
            var answers = new ConcurrentQueue<string>();
            var left = count;
            await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Decrement(ref left) >= 0) answers.Enqueue(await Call());
            })));
            return answers.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        }

        /// <summary>The answers per pod of <paramref name="calls"/>, and the picks it made per <c>k8slb.locality</c>.</summary>
        public async Task<(Dictionary<string, int> Replies, Dictionary<string, double> Picks)> Measure(Func<Task<Dictionary<string, int>>> calls)
        {
            var before = PicksByLocality();
            var replies = await calls();
            var after = PicksByLocality();
            var picks = after
                .Select(p => (p.Key, Value: p.Value - before.GetValueOrDefault(p.Key)))
                .Where(p => p.Value != 0)
                .ToDictionary(p => p.Key, p => p.Value);
            return (replies, picks);
        }

        public async ValueTask DisposeAsync()
        {
            _subscription.Dispose();
            _channel.Dispose();
            _recorder.Dispose();
            await Task.CompletedTask;
        }

        private async Task<string> Call() => (await Client.SayHelloAsync(new HelloRequest { Name = "x" }, deadline: DateTime.UtcNow.Add(Timeout))).Pod;

        private Dictionary<string, double> PicksByLocality() => _recorder.ForService("k8slb.endpoint.picks", Service.Name)
            .GroupBy(m => (string)m.Tag("k8slb.locality")!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
    }

    /// <summary>Four callers calling in a loop until stopped; every answer (the pod's name) and every failure recorded in order.</summary>
    private sealed class ZoneLoad
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _answers = [];
        private Task[] _callers = [];

        public ConcurrentQueue<string> Failures { get; } = new();

        public IReadOnlyList<string> Answers
        {
            get
            {
                lock (_answers)
                {
                    return [.. _answers];
                }
            }
        }

        public static ZoneLoad Start(Greeter.GreeterClient client)
        {
            var load = new ZoneLoad();
            load._callers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!load._stop.IsCancellationRequested)
                {
                    try
                    {
                        var pod = (await client.SayHelloAsync(new HelloRequest { Name = "x" }, deadline: DateTime.UtcNow.Add(Timeout))).Pod;
                        lock (load._answers) load._answers.Add(pod);
                    }
                    catch (RpcException e)
                    {
                        load.Failures.Enqueue($"{e.StatusCode}: {e.Status.Detail}");
                    }
                }
            }))];
            return load;
        }

        public Task UntilAnswered(int count) => Eventually.That(() => Answers.Count >= count, Timeout, $"{count} answers");

        public async Task Stop()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_callers);
            _stop.Dispose();
        }
    }
}
