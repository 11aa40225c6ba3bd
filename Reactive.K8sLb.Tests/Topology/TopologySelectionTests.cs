using System.Net;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb.Tests.Topology;

/// <summary>
/// kube-proxy's topology rules (kubernetes/kubernetes <c>pkg/proxy/topology.go</c>), case by case: the Cluster-policy
/// cases of its <c>topology_test.go</c> rewritten for a client (hints for every endpoint, a missing hint, no endpoint for
/// this zone, unknown zone, unready endpoints, several hints per endpoint, terminating-only fallback), plus node hints
/// and what the client's own view adds (unknown node, empty input, order, case).
/// </summary>
public sealed class TopologySelectionTests
{
    private const string ZoneA = "zone-a";
    private const string ZoneB = "zone-b";
    private const string ZoneC = "zone-c";
    private const string ZoneD = "zone-d";
    private const string Node1 = "node-1";
    private const string Node2 = "node-2";
    private const string Node3 = "node-3";

    private enum State
    {
        Ready,
        NotReady,
        ServingTerminating,
        TerminatingNotServing,
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        // Zone hints (topology_test.go's zone cases).
        yield return Case(
            "EveryEndpointHinted_SomeForClientZone_UsesThoseOnly",
            ZoneA, null,
            [Ep(3, zones: [ZoneA]), Ep(4, zones: [ZoneB]), Ep(5, zones: [ZoneC]), Ep(6, zones: [ZoneA])],
            [3, 6], TopologyRule.Zone);
        yield return Case(
            "UnknownZone_HintsIgnored",
            null, null,
            [Ep(3, zones: [ZoneA])],
            [3], TopologyRule.UnknownZone);
        yield return Case(
            "EmptyZone_HintsIgnored",
            "", null,
            [Ep(3, zones: [ZoneA])],
            [3], TopologyRule.UnknownZone);
        yield return Case(
            "NoEndpointForClientZone_UsesAll",
            ZoneB, null,
            [Ep(3, zones: [ZoneA])],
            [3], TopologyRule.NoLocalEndpoints);
        yield return Case(
            "UnreadyEndpointInClientZone_Skipped",
            ZoneA, null,
            [Ep(3, zones: [ZoneA]), Ep(4, zones: [ZoneB]), Ep(5, zones: [ZoneC]), Ep(6, State.NotReady, zones: [ZoneA])],
            [3], TopologyRule.Zone);
        yield return Case(
            "OnlyUnreadyEndpointsInClientZone_UsesAllReady",
            ZoneA, null,
            [Ep(3, State.NotReady, zones: [ZoneA]), Ep(4, zones: [ZoneB]), Ep(5, zones: [ZoneC]), Ep(6, State.NotReady, zones: [ZoneA])],
            [4, 5], TopologyRule.NoLocalEndpoints);
        yield return Case(
            "OneReadyEndpointMissingHint_UsesAllReady",
            ZoneA, null,
            [Ep(3, zones: [ZoneA]), Ep(4, zones: [ZoneB]), Ep(5), Ep(6, zones: [ZoneA])],
            [3, 4, 5, 6], TopologyRule.MissingHints);
        yield return Case(
            "UnreadyEndpointMissingHint_DoesNotCount",
            ZoneA, null,
            [Ep(3, zones: [ZoneA]), Ep(4, zones: [ZoneB]), Ep(5, State.NotReady)],
            [3], TopologyRule.Zone);
        yield return Case(
            "SeveralHintsPerEndpoint_AnyHintForClientZoneCounts",
            ZoneC, null,
            [Ep(3, zones: [ZoneA, ZoneB, ZoneC]), Ep(4, zones: [ZoneB, ZoneC]), Ep(5, zones: [ZoneB, ZoneD]), Ep(6, zones: [ZoneC])],
            [3, 4, 6], TopologyRule.Zone);
        yield return Case(
            "NoHintsAnywhere_UsesAllReady",
            ZoneA, Node1,
            [Ep(0, State.NotReady), Ep(1)],
            [1], TopologyRule.All);
        yield return Case(
            "ZoneNamesCompareOrdinally",
            "Zone-A", null,
            [Ep(3, zones: [ZoneA]), Ep(4, zones: [ZoneB])],
            [3, 4], TopologyRule.NoLocalEndpoints);

        // Node hints (hints.forNodes, written for trafficDistribution: PreferSameNode; GA in 1.35).
        yield return Case(
            "EveryEndpointHasNodeHint_SomeForClientNode_UsesThoseOnly",
            ZoneA, Node1,
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneA], nodes: [Node2]), Ep(3, zones: [ZoneB], nodes: [Node3]), Ep(4, zones: [ZoneA], nodes: [Node1])],
            [1, 4], TopologyRule.Node);
        yield return Case(
            "NodeRuleComesBeforeZoneRule_EvenWithoutZoneHints",
            ZoneA, Node1,
            [Ep(1, nodes: [Node1]), Ep(2, nodes: [Node2])],
            [1], TopologyRule.Node);
        yield return Case(
            "SeveralNodeHintsPerEndpoint_AnyHintForClientNodeCounts",
            ZoneA, Node3,
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneA], nodes: [Node2]), Ep(3, zones: [ZoneB], nodes: [Node3, Node2])],
            [3], TopologyRule.Node);
        yield return Case(
            "NodeHintsNotForClientNode_FallsBackToZone",
            ZoneA, "node-9",
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneA], nodes: [Node2]), Ep(3, zones: [ZoneB], nodes: [Node3])],
            [1, 2], TopologyRule.Zone);
        yield return Case(
            "OneEndpointMissingNodeHint_FallsBackToZone",
            ZoneA, Node1,
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneA]), Ep(3, zones: [ZoneB], nodes: [Node3])],
            [1, 2], TopologyRule.Zone);
        yield return Case(
            "UnknownNode_FallsBackToZone",
            ZoneA, null,
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneB], nodes: [Node2])],
            [1], TopologyRule.Zone);
        yield return Case(
            "UnknownNodeAndZone_UsesAllReady",
            null, null,
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneB], nodes: [Node2])],
            [1, 2], TopologyRule.UnknownZone);
        yield return Case(
            "NodeHintsNotForClientNode_ZoneHintMissing_UsesAllReady",
            ZoneA, Node3,
            [Ep(1, zones: [ZoneA], nodes: [Node1]), Ep(2, nodes: [Node2])],
            [1, 2], TopologyRule.MissingHints);
        yield return Case(
            "UnreadyEndpointForClientNode_DoesNotCount",
            ZoneA, Node1,
            [Ep(1, State.NotReady, zones: [ZoneA], nodes: [Node1]), Ep(2, zones: [ZoneA], nodes: [Node2]), Ep(3, zones: [ZoneB], nodes: [Node3])],
            [2], TopologyRule.Zone);

        // Fallback to serving and terminating endpoints (topology_test.go's terminating cases).
        yield return Case(
            "NoReadyEndpoint_ServingTerminatingUsed_TopologyIgnored",
            ZoneA, Node1,
            [Ep(0, State.ServingTerminating, zones: [ZoneB], nodes: [Node2]), Ep(1, State.ServingTerminating, zones: [ZoneA], nodes: [Node1]), Ep(2, State.TerminatingNotServing, zones: [ZoneA]), Ep(3, State.NotReady)],
            [0, 1], TopologyRule.ServingTerminating);
        yield return Case(
            "SomeReady_TerminatingLeftOut",
            ZoneA, null,
            [Ep(0), Ep(1, State.NotReady), Ep(2, State.ServingTerminating), Ep(3, State.ServingTerminating)],
            [0], TopologyRule.All);
        yield return Case(
            "ReadyInOtherZoneOnly_TerminatingInClientZoneLeftOut",
            ZoneA, null,
            [Ep(0, zones: [ZoneB]), Ep(1, State.ServingTerminating, zones: [ZoneA])],
            [0], TopologyRule.NoLocalEndpoints);
        yield return Case(
            "NoEndpointReadyNorServing_Nothing",
            ZoneA, null,
            [Ep(0, State.NotReady, zones: [ZoneA]), Ep(1, State.TerminatingNotServing)],
            [], TopologyRule.NoEndpoints);
        yield return Case(
            "EmptyInput_Nothing",
            ZoneA, Node1,
            [],
            [], TopologyRule.NoEndpoints);
    }

    [TestCaseSource(nameof(Cases))]
    public void Select_ChoosesAsKubeProxyDoes(string? zone, string? node, KubernetesEndpoint[] endpoints, int[] expected, object rule)
    {
        var choice = TopologySelection.Select(endpoints, zone, node);

        Assert.That(
            (choice.Endpoints.Select(Octet).ToArray(), choice.Rule),
            Is.EqualTo((expected, rule)));
        Assert.That(choice.IsLocal, Is.EqualTo(rule is TopologyRule.Node or TopologyRule.Zone));
    }

    [Test]
    public void Select_KeepsTheInputInstancesAndOrder()
    {
        KubernetesEndpoint[] endpoints = [Ep(9, zones: [ZoneA]), Ep(2, zones: [ZoneB]), Ep(5, zones: [ZoneA])];

        var choice = TopologySelection.Select(endpoints, ZoneA, null);

        Assert.That(choice.Endpoints, Is.EqualTo(new[] { endpoints[0], endpoints[2] }).Using<KubernetesEndpoint>(ReferenceEquals));
    }

    [Test]
    public void Select_NullEndpoints_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => TopologySelection.Select(null!, ZoneA, Node1));
    }

    private static TestCaseData Case(string name, string? zone, string? node, KubernetesEndpoint[] endpoints, int[] expected, TopologyRule rule) =>
        new TestCaseData(zone, node, endpoints, expected, rule).SetName(name);

    private static KubernetesEndpoint Ep(int octet, State state = State.Ready, string[]? zones = null, string[]? nodes = null) =>
        new(new IPEndPoint(IPAddress.Parse($"10.1.2.{octet}"), 80))
        {
            Ready = state == State.Ready,
            Serving = state is State.Ready or State.ServingTerminating,
            Terminating = state is State.ServingTerminating or State.TerminatingNotServing,
            ZoneHints = zones ?? [],
            NodeHints = nodes ?? [],
        };

    private static int Octet(KubernetesEndpoint endpoint) => ((IPEndPoint)endpoint.EndPoint).Address.GetAddressBytes()[3];
}
