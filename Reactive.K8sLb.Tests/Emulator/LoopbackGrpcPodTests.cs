using System.Net;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Emulator;

/// <summary>The test kit's pod host only ever listens on loopback addresses.</summary>
public sealed class LoopbackGrpcPodTests
{
    [Test]
    public async Task StartAsync_NonLoopbackAddress_IsRefusedBeforeAnythingListens()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => LoopbackGrpcPod.StartAsync<object>(IPAddress.Parse("10.0.0.1"), 50051));

        Assert.That(error!.Message, Does.Contain("10.0.0.1").And.Contain("loopback"));
    }

    [Test]
    public void FreePort_NonLoopbackProbe_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => LoopbackGrpcPod.FreePort(IPAddress.Parse("192.168.1.1")));
    }

    [Test]
    public async Task Pods_OnDistinctLoopbackAddresses_ShareOnePort()
    {
        await using var pods = await GreeterPods.StartAsync(2);

        Assert.That(pods.Names.Select(n => pods.EndPoint(n).Port).Distinct(), Is.EqualTo(new[] { pods.Port }));
        Assert.That(pods.Names.Select(n => pods.EndPoint(n).Address).Distinct().Count(), Is.EqualTo(2));
    }
}
