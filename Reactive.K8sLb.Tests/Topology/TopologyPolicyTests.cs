using System.Net;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb.Tests.Topology;

/// <summary>
/// The snapshot a balancer takes of <see cref="TopologyOptions"/>: where the client's zone and node come from (the
/// options, else the environment, empty meaning unknown), when topology matters, the locality of an endpoint, the
/// options' validation naming the field, and the config keeping a snapshot.
/// </summary>
public sealed class TopologyPolicyTests
{
    private static readonly Func<string, string?> Environment = name => name switch
    {
        TopologyOptions.ZoneVariable => "env-zone",
        TopologyOptions.NodeNameVariable => "env-node",
        _ => null,
    };

    private static readonly Func<string, string?> EmptyEnvironment = _ => null;

    [Test]
    public void ExplicitZoneAndNode_WinOverTheEnvironment()
    {
        var policy = TopologyPolicy.From(new TopologyOptions { Zone = "zone-a", NodeName = "node-1" }, Environment);

        Assert.That((policy.Zone, policy.Node), Is.EqualTo(("zone-a", "node-1")));
    }

    [Test]
    public void ZoneAndNodeLeftOpen_ComeFromTheEnvironmentVariables()
    {
        var policy = TopologyPolicy.From(new TopologyOptions(), Environment);

        Assert.That((policy.Zone, policy.Node), Is.EqualTo(("env-zone", "env-node")));
    }

    [TestCase("")]
    [TestCase("   ")]
    public void EmptyOrWhitespaceZoneAndNode_AreUnknown(string blank)
    {
        var policy = TopologyPolicy.From(new TopologyOptions { Zone = blank, NodeName = blank }, Environment);

        Assert.That((policy.Zone, policy.Node), Is.EqualTo(((string?)null, (string?)null)));
    }

    [Test]
    public void EmptyEnvironmentVariables_AreUnknown()
    {
        var policy = TopologyPolicy.From(new TopologyOptions(), name => name == TopologyOptions.ZoneVariable ? "" : " ");

        Assert.That((policy.Zone, policy.Node), Is.EqualTo(((string?)null, (string?)null)));
    }

    [Test]
    public void ModeAndMinLocalShare_AreCopied()
    {
        var policy = TopologyPolicy.From(new TopologyOptions { Mode = TopologyMode.PreferLocal, MinLocalShare = 0.25 }, EmptyEnvironment);

        Assert.That((policy.Mode, policy.MinLocalShare), Is.EqualTo((TopologyMode.PreferLocal, (double?)0.25)));
    }

    [Test]
    public void Defaults_AreHintsWithNoMinLocalShare()
    {
        var options = new TopologyOptions();

        Assert.That((options.Mode, options.MinLocalShare, options.Zone, options.NodeName), Is.EqualTo((TopologyMode.Hints, (double?)null, (string?)null, (string?)null)));
    }

    [TestCase(TopologyMode.Hints, "zone-a", null, true)]
    [TestCase(TopologyMode.Hints, null, "node-1", true)]
    [TestCase(TopologyMode.PreferLocal, "zone-a", null, true)]
    [TestCase(TopologyMode.Hints, null, null, false)]
    [TestCase(TopologyMode.PreferLocal, null, null, false)]
    [TestCase(TopologyMode.Off, "zone-a", "node-1", false)]
    public void IsActive_NeedsAModeAndAKnownLocation(TopologyMode mode, string? zone, string? node, bool active)
    {
        Assert.That(new TopologyPolicy(mode, zone, node, null).IsActive, Is.EqualTo(active));
    }

    [TestCase("zone-a", "zone-a", Locality.SameZone)]
    [TestCase("zone-a", "zone-b", Locality.OtherZone)]
    [TestCase("zone-a", "ZONE-A", Locality.OtherZone)]
    [TestCase("zone-a", null, Locality.Unknown)]
    [TestCase("zone-a", "", Locality.Unknown)]
    [TestCase(null, "zone-a", Locality.Unknown)]
    public void LocalityOf_ComparesTheEndpointZoneWithTheClients(string? client, string? endpoint, string expected)
    {
        var policy = new TopologyPolicy(TopologyMode.Hints, client, null, null);

        Assert.That(policy.LocalityOf(new KubernetesEndpoint(new IPEndPoint(IPAddress.Loopback, 80)) { Zone = endpoint }), Is.EqualTo(expected));
    }

    [Test]
    public void LocalityOf_AnAddressWithoutMetadata_IsUnknown()
    {
        Assert.That(new TopologyPolicy(TopologyMode.Hints, "zone-a", null, null).LocalityOf(null), Is.EqualTo(Locality.Unknown));
    }

    [TestCase(0.0)]
    [TestCase(-0.1)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void MinLocalShare_OutOfRange_ThrowsNamingTheField(double share)
    {
        var options = new TopologyOptions();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => options.MinLocalShare = share);

        Assert.That(error!.ParamName, Is.EqualTo(nameof(TopologyOptions.MinLocalShare)));
        Assert.That(options.MinLocalShare, Is.Null, "the bad value was not stored");
    }

    [TestCase(1.0)]
    [TestCase(0.001)]
    public void MinLocalShare_InRange_IsKept(double share)
    {
        Assert.That(new TopologyOptions { MinLocalShare = share }.MinLocalShare, Is.EqualTo(share));
    }

    [Test]
    public void Mode_Undefined_ThrowsNamingTheField()
    {
        var options = new TopologyOptions();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => options.Mode = (TopologyMode)42);

        Assert.That(error!.ParamName, Is.EqualTo(nameof(TopologyOptions.Mode)));
        Assert.That(options.Mode, Is.EqualTo(TopologyMode.Hints));
    }

    [Test]
    public void Config_KeepsASnapshot_LaterChangesToTheOptionsAreNotSeen()
    {
        var options = new TopologyOptions { Mode = TopologyMode.PreferLocal, Zone = "zone-a", NodeName = "node-1", MinLocalShare = 0.5 };
        var config = new NewestFirstRoundRobinConfig { Topology = options };

        options.Mode = TopologyMode.Off;
        options.Zone = "zone-b";
        options.NodeName = "node-2";
        options.MinLocalShare = 0.9;

        Assert.That(NewestFirstRoundRobinConfig.TopologyPolicyOf(Fields(config)), Is.EqualTo(new TopologyPolicy(TopologyMode.PreferLocal, "zone-a", "node-1", 0.5)));
        Assert.That(config.Topology, Is.SameAs(options));
    }

    [Test]
    public void Config_TopologySetToNull_FallsBackToTheDefaults()
    {
        var config = new NewestFirstRoundRobinConfig { Topology = new TopologyOptions { Mode = TopologyMode.Off } };

        config.Topology = null;

        Assert.That(NewestFirstRoundRobinConfig.TopologyPolicyOf(Fields(config)).Mode, Is.EqualTo(TopologyMode.Hints));
        Assert.That(config.Topology, Is.Null);
    }

    [Test]
    public void Config_WithoutTopology_MeansHints()
    {
        Assert.That(NewestFirstRoundRobinConfig.TopologyPolicyOf(Fields(new NewestFirstRoundRobinConfig())).Mode, Is.EqualTo(TopologyMode.Hints));
    }

    private static IDictionary<string, object> Fields(Grpc.Net.Client.Configuration.LoadBalancingConfig config) =>
        (IDictionary<string, object>)config.Inner[NewestFirstRoundRobinBalancerFactory.PolicyName];
}
