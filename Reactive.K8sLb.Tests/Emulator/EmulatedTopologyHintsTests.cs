using k8s;
using k8s.Models;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Tests.Emulator;

/// <summary>
/// Zones, nodes and topology hints as the EndpointSlice controller writes them for a Service's trafficDistribution
/// (kubernetes/kubernetes staging/src/k8s.io/endpointslice/trafficdist/trafficdist.go), read through a real
/// KubernetesClient over HTTP.
/// </summary>
public sealed class EmulatedTopologyHintsTests : EmulatorFixture
{
    private const string Selector = "kubernetes.io/service-name=api";

    private static IEnumerable<TestCaseData> DistributionCases()
    {
        string[] none = [$"{Ip(1)} a/n1 none", $"{Ip(2)} a/- none", $"{Ip(3)} -/n3 none", $"{Ip(4)} -/- none", $"{Ip(5)} b/n5 none"];
        string[] zones = [$"{Ip(1)} a/n1 zones=a nodes=-", $"{Ip(2)} a/- zones=a nodes=-", $"{Ip(3)} -/n3 none", $"{Ip(4)} -/- none", $"{Ip(5)} b/n5 none"];
        string[] nodes = [$"{Ip(1)} a/n1 zones=a nodes=n1", $"{Ip(2)} a/- zones=a nodes=-", $"{Ip(3)} -/n3 zones=- nodes=n3", $"{Ip(4)} -/- none", $"{Ip(5)} b/n5 none"];
        yield return new TestCaseData(null, none).SetArgDisplayNames("unset");
        yield return new TestCaseData("PreferClose", zones).SetArgDisplayNames("PreferClose");
        yield return new TestCaseData("PreferSameZone", zones).SetArgDisplayNames("PreferSameZone");
        yield return new TestCaseData("PreferSameNode", nodes).SetArgDisplayNames("PreferSameNode");
    }

    [TestCaseSource(nameof(DistributionCases))]
    public async Task TrafficDistribution_EachValue_ReadyEndpointsGetTheirOwnZoneAndNodeAsHints(string? distribution, string[] expected)
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = distribution;

        service.AddPod(Ip(1), zone: "a", node: "n1");
        service.AddPod(Ip(2), zone: "a");
        service.AddPod(Ip(3), node: "n3");
        service.AddPod(Ip(4));
        service.AddPod(Ip(5), ready: false, zone: "b", node: "n5");

        Assert.That(await ListEndpointsAsync(Client), Is.EqualTo(expected));
    }

    [Test]
    public async Task TrafficDistribution_SetOnAServiceWithPods_WatchSeesOneModifiedCarryingTheHints()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1), zone: "a", node: "n1");
        service.AddPod(Ip(2), zone: "b", node: "n2");
        await using var watch = WatchRecorder.Start(Client, labelSelector: Selector);
        await watch.UntilEventsAsync(1);
        var rv = Emulator.CurrentResourceVersion;

        service.TrafficDistribution = "PreferSameNode";
        await watch.UntilEventsAsync(2);

        var (type, slice) = watch.Events[1];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(type, Is.EqualTo(WatchEventType.Modified));
            Assert.That(slice.Endpoints.Select(Describe), Is.EqualTo(new[] { $"{Ip(1)} a/n1 zones=a nodes=n1", $"{Ip(2)} b/n2 zones=b nodes=n2" }));
            Assert.That(Emulator.CurrentResourceVersion, Is.EqualTo(rv + 1));
            Assert.That(service.TrafficDistribution, Is.EqualTo("PreferSameNode"));
        }
    }

    [Test]
    public async Task TrafficDistribution_Cleared_RemovesEveryHint()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = "PreferSameNode";
        service.AddPod(Ip(1), zone: "a", node: "n1");

        service.TrafficDistribution = null;

        Assert.That(await ListEndpointsAsync(Client), Is.EqualTo(new[] { $"{Ip(1)} a/n1 none" }));
    }

    [Test]
    public async Task TrafficDistribution_Changed_WritesOnlySlicesWhoseHintsChange()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { MaxEndpointsPerSlice = 2 });
        using var client = emulator.CreateClient();
        var service = emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1), zone: "a");
        service.AddPod(Ip(2), zone: "a");
        service.AddPod(Ip(3), node: "n3");
        service.AddPod(Ip(4), node: "n4");
        var (zoned, noded) = (service.SliceNames[0], service.SliceNames[1]);
        var initial = await SliceVersionsAsync(client);

        service.TrafficDistribution = "PreferSameZone";    // zone hints: only the first slice changes
        var afterZone = await SliceVersionsAsync(client);
        service.TrafficDistribution = "PreferClose";       // the same hints: nothing to write
        var afterClose = await SliceVersionsAsync(client);
        service.TrafficDistribution = "PreferSameNode";    // node hints: only the second slice changes
        var afterNode = await SliceVersionsAsync(client);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterZone[zoned], Is.Not.EqualTo(initial[zoned]));
            Assert.That(afterZone[noded], Is.EqualTo(initial[noded]));
            Assert.That(afterClose, Is.EqualTo(afterZone));
            Assert.That(afterNode[zoned], Is.EqualTo(afterClose[zoned]));
            Assert.That(afterNode[noded], Is.Not.EqualTo(afterClose[noded]));
            Assert.That(await ListEndpointsAsync(client), Is.EqualTo(new[]
            {
                $"{Ip(1)} a/- zones=a nodes=-",
                $"{Ip(2)} a/- zones=a nodes=-",
                $"{Ip(3)} -/n3 zones=- nodes=n3",
                $"{Ip(4)} -/n4 zones=- nodes=n4",
            }));
        }
    }

    [Test]
    public async Task AddPod_AfterTrafficDistribution_WatchSeesTheNewEndpointWithItsHint()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = "PreferSameZone";
        service.AddPod(Ip(1), zone: "a");
        await using var watch = WatchRecorder.Start(Client, labelSelector: Selector);
        await watch.UntilEventsAsync(1);

        service.AddPod(Ip(2), zone: "b", node: "n2");
        await watch.UntilEventsAsync(2);

        Assert.That(watch.Events[1].Slice.Endpoints.Select(Describe), Is.EqualTo(new[] { $"{Ip(1)} a/- zones=a nodes=-", $"{Ip(2)} b/n2 zones=b nodes=-" }));
    }

    [Test]
    public async Task SetReady_False_DropsTheHint_AndTrueWritesItAgain()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = "PreferSameZone";
        service.AddPod(Ip(1), zone: "a");

        service.SetReady(Ip(1), false);
        var notReady = await ListEndpointsAsync(Client);
        service.SetReady(Ip(1), true);
        var ready = await ListEndpointsAsync(Client);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(notReady, Is.EqualTo(new[] { $"{Ip(1)} a/- none" }));
            Assert.That(ready, Is.EqualTo(new[] { $"{Ip(1)} a/- zones=a nodes=-" }));
        }
    }

    [Test]
    public async Task OmitHints_RemovesTheHintsOfThatEndpointOnly_InOneWrite()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = "PreferSameNode";
        service.AddPod(Ip(1), zone: "a", node: "n1");
        service.AddPod(Ip(2), zone: "a", node: "n2");
        var rv = Emulator.CurrentResourceVersion;

        service.OmitHints(Ip(1));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await ListEndpointsAsync(Client), Is.EqualTo(new[] { $"{Ip(1)} a/n1 none", $"{Ip(2)} a/n2 zones=a nodes=n2" }));
            Assert.That(Emulator.CurrentResourceVersion, Is.EqualTo(rv + 1));
        }
    }

    [Test]
    public async Task OmitHints_Undone_WritesTheHintsAgain()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = "PreferSameZone";
        service.AddPod(Ip(1), zone: "a");
        service.OmitHints(Ip(1));

        service.OmitHints(Ip(1), omit: false);

        Assert.That(await ListEndpointsAsync(Client), Is.EqualTo(new[] { $"{Ip(1)} a/- zones=a nodes=-" }));
    }

    [Test]
    public async Task OmitHints_BeforeTrafficDistribution_WritesNothingThenKeepsThatEndpointWithoutHints()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1), zone: "a");
        service.AddPod(Ip(2), zone: "b");
        var rv = Emulator.CurrentResourceVersion;

        service.OmitHints(Ip(1));
        var rvAfterOmit = Emulator.CurrentResourceVersion;
        service.TrafficDistribution = "PreferSameZone";

        using (Assert.EnterMultipleScope())
        {
            Assert.That(rvAfterOmit, Is.EqualTo(rv));
            Assert.That(await ListEndpointsAsync(Client), Is.EqualTo(new[] { $"{Ip(1)} a/- none", $"{Ip(2)} b/- zones=b nodes=-" }));
        }
    }

    [TestCase("PreferSameRegion")]
    [TestCase("prefersamezone")]
    [TestCase("")]
    public void TrafficDistribution_UnknownValue_ThrowsNamingThePropertyAndChangesNothing(string value)
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.TrafficDistribution = "PreferSameZone";
        service.AddPod(Ip(1), zone: "a");
        var rv = Emulator.CurrentResourceVersion;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(
                () => service.TrafficDistribution = value,
                Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("TrafficDistribution")
                    .And.Message.Contains($"\"{value}\""));
            Assert.That(service.TrafficDistribution, Is.EqualTo("PreferSameZone"));
            Assert.That(Emulator.CurrentResourceVersion, Is.EqualTo(rv));
        }
    }

    /// <summary>Every endpoint of the Service, listed over HTTP, ordered by IP, as "ip zone/node hints".</summary>
    private static async Task<List<string>> ListEndpointsAsync(IKubernetes client)
    {
        var list = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: Selector);
        return [.. list.Items.SelectMany(s => s.Endpoints ?? []).Select(Describe).Order(StringComparer.Ordinal)];
    }

    /// <summary>The resourceVersion of each of the Service's slices, listed over HTTP.</summary>
    private static async Task<Dictionary<string, string>> SliceVersionsAsync(IKubernetes client)
    {
        var list = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: Selector);
        return list.Items.ToDictionary(s => s.Metadata.Name, s => s.Metadata.ResourceVersion);
    }

    private static string Describe(V1Endpoint e)
    {
        var hints = e.Hints is null
            ? "none"
            : $"zones={Names(e.Hints.ForZones?.Select(z => z.Name))} nodes={Names(e.Hints.ForNodes?.Select(n => n.Name))}";
        return $"{e.Addresses.Single()} {e.Zone ?? "-"}/{e.NodeName ?? "-"} {hints}";
    }

    private static string Names(IEnumerable<string>? names) => names is null ? "-" : string.Join(",", names);
}
