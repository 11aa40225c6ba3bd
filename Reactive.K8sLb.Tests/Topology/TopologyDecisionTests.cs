using System.Net;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb.Tests.Topology;

/// <summary>
/// The balancer's topology decision for an address list: which endpoints are local under each mode, why in words, and
/// whether hints were ignored (the log level). The kube-proxy rules themselves are in <see cref="TopologySelectionTests"/>.
/// </summary>
public sealed class TopologyDecisionTests
{
    private static readonly TopologyPolicy HintsInZoneA = new(TopologyMode.Hints, "zone-a", null, null);

    [Test]
    public void Hints_EveryEndpointZoneHinted_MarksExactlyTheOnesForTheClientZone()
    {
        var decision = TopologyDecision.Decide(HintsInZoneA, [Ep(1, hints: ["zone-a"]), Ep(2, hints: ["zone-b"]), Ep(3, hints: ["zone-a"]), Ep(4, hints: ["zone-c"])]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { true, false, true, false }));
        Assert.That((decision.LocalCount, decision.Narrows, decision.HintsIgnored), Is.EqualTo((2, true, false)));
        Assert.That(decision.Why, Does.Contain("zone zone-a"));
    }

    [Test]
    public void Hints_EveryEndpointNodeHinted_MarksTheOnesForTheClientNode()
    {
        var policy = new TopologyPolicy(TopologyMode.Hints, "zone-a", "node-1", null);

        var decision = TopologyDecision.Decide(policy, [Ep(1, hints: ["zone-a"], nodes: ["node-2"]), Ep(2, hints: ["zone-a"], nodes: ["node-1"]), Ep(3, hints: ["zone-a"], nodes: ["node-3"])]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, true, false }));
        Assert.That(decision.Why, Does.Contain("node node-1"));
    }

    [Test]
    public void Hints_UsesHintsNotZoneLabels()
    {
        // Endpoint 1 is in zone-a but the controller hinted it for zone-b (it balances zones by CPU).
        var decision = TopologyDecision.Decide(HintsInZoneA, [Ep(1, zone: "zone-a", hints: ["zone-b"]), Ep(2, zone: "zone-b", hints: ["zone-a"])]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, true }));
    }

    [Test]
    public void Hints_OneEndpointWithoutHint_AllAndTheReasonNamesIt()
    {
        var decision = TopologyDecision.Decide(HintsInZoneA, [Ep(1, hints: ["zone-a"]), Ep(2), Ep(3, hints: ["zone-b"])]);

        Assert.That((decision.Narrows, decision.HintsIgnored), Is.EqualTo((false, true)));
        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, false, false }));
        Assert.That(decision.Why, Does.Contain("127.0.0.2:80").And.Contain("no zone hint"));
    }

    [Test]
    public void Hints_UnknownClientZone_AllBecauseTheZoneIsUnknown()
    {
        var decision = TopologyDecision.Decide(new TopologyPolicy(TopologyMode.Hints, null, null, null), [Ep(1, hints: ["zone-a"]), Ep(2, hints: ["zone-b"])]);

        Assert.That((decision.Narrows, decision.HintsIgnored), Is.EqualTo((false, true)));
        Assert.That(decision.Why, Does.Contain("zone is unknown"));
    }

    [Test]
    public void Hints_NoEndpointForTheClientZone_AllAndSaysSo()
    {
        var decision = TopologyDecision.Decide(HintsInZoneA, [Ep(1, hints: ["zone-b"]), Ep(2, hints: ["zone-c"])]);

        Assert.That((decision.Narrows, decision.HintsIgnored), Is.EqualTo((false, true)));
        Assert.That(decision.Why, Is.EqualTo("no endpoint is hinted for zone zone-a"));
    }

    [Test]
    public void Hints_NoHintsAnywhere_AllWithoutFlaggingIgnoredHints()
    {
        var decision = TopologyDecision.Decide(HintsInZoneA, [Ep(1, zone: "zone-a"), Ep(2, zone: "zone-b")]);

        Assert.That((decision.Narrows, decision.HintsIgnored), Is.EqualTo((false, false)));
        Assert.That(decision.Why, Is.EqualTo("no endpoint has a zone hint"));
    }

    [Test]
    public void Hints_AddressesWithoutMetadata_All()
    {
        var decision = TopologyDecision.Decide(HintsInZoneA, [null, null]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, false }));
        Assert.That((decision.Narrows, decision.HintsIgnored), Is.EqualTo((false, false)));
    }

    [Test]
    public void Hints_AnAddressWithoutMetadataAmongHintedOnes_AllAndTheReasonDoesNotNameABogusEndpoint()
    {
        var decision = TopologyDecision.Decide(HintsInZoneA, [Ep(1, hints: ["zone-a"]), null]);

        Assert.That(decision.Narrows, Is.False);
        Assert.That(decision.Why, Does.Not.Contain("255.255.255.255"));
        Assert.That(decision.Why, Does.Contain("without endpoint metadata"));
    }

    [Test]
    public void PreferLocal_UsesZoneLabelsNotHints()
    {
        var policy = new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", null, null);

        var decision = TopologyDecision.Decide(policy, [Ep(1, zone: "zone-a", hints: ["zone-b"]), Ep(2, zone: "zone-b", hints: ["zone-a"]), Ep(3, zone: "zone-a")]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { true, false, true }));
        Assert.That((decision.LocalCount, decision.Why), Is.EqualTo((2, "in zone zone-a")));
    }

    [Test]
    public void PreferLocal_IgnoresEndpointsThatAreNotReady()
    {
        var policy = new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", null, null);

        var decision = TopologyDecision.Decide(policy, [Ep(1, zone: "zone-a", ready: false), Ep(2, zone: "zone-a"), Ep(3, zone: "zone-b")]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, true, false }));
    }

    [Test]
    public void PreferLocal_OnlyNotReadyEndpointsInTheZone_DoesNotNarrow()
    {
        var policy = new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", null, null);

        var decision = TopologyDecision.Decide(policy, [Ep(1, zone: "zone-a", ready: false), Ep(2, zone: "zone-b")]);

        Assert.That(decision.Narrows, Is.False);
        Assert.That(decision.Why, Is.EqualTo("no ready endpoint is in zone zone-a"));
    }

    [Test]
    public void PreferLocal_UnknownClientZone_DoesNotNarrow()
    {
        var policy = new TopologyPolicy(TopologyMode.PreferLocal, null, "node-1", null);

        var decision = TopologyDecision.Decide(policy, [Ep(1, zone: "zone-a"), Ep(2, zone: "zone-b")]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, false }));
        Assert.That(decision.Why, Is.EqualTo("the client's zone is unknown"));
    }

    [Test]
    public void PreferLocal_AddressesWithoutMetadata_AreNotLocal()
    {
        var policy = new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", null, null);

        var decision = TopologyDecision.Decide(policy, [null, Ep(2, zone: "zone-a")]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, true }));
    }

    [Test]
    public void Off_NeverNarrows()
    {
        var policy = new TopologyPolicy(TopologyMode.Off, "zone-a", "node-1", null);

        var decision = TopologyDecision.Decide(policy, [Ep(1, zone: "zone-a", hints: ["zone-a"], nodes: ["node-1"]), Ep(2, zone: "zone-b", hints: ["zone-b"], nodes: ["node-2"])]);

        Assert.That(decision.IsLocal, Is.EqualTo(new[] { false, false }));
        Assert.That((decision.Narrows, decision.Why), Is.EqualTo((false, "topology is off")));
    }

    private static KubernetesEndpoint Ep(int n, string? zone = null, string[]? hints = null, string[]? nodes = null, bool ready = true) =>
        new(new IPEndPoint(IPAddress.Parse($"127.0.0.{n}"), 80)) { Zone = zone, ZoneHints = hints ?? [], NodeHints = nodes ?? [], Ready = ready };
}
