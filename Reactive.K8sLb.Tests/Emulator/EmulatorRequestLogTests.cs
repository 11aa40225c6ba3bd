using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Tests.Emulator;

public sealed class EmulatorRequestLogTests
{
    [Test]
    public async Task Requests_MoreThanRequestLogLimit_KeepsTheNewestInArrivalOrder()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { RequestLogLimit = 3 });
        using var client = emulator.CreateClient();

        for (var i = 1; i <= 5; i++)
        {
            using (await client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default", labelSelector: $"n={i}"))
            {
            }
        }

        Assert.That(emulator.Requests.Select(r => r.Query["labelSelector"]), Is.EqualTo(new[] { "n=3", "n=4", "n=5" }));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public async Task StartAsync_RequestLogLimitNotPositive_ThrowsNamingIt(int limit)
    {
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { RequestLogLimit = limit }));

        Assert.That(e!.ParamName, Is.EqualTo(nameof(KubernetesApiEmulatorOptions.RequestLogLimit)));
    }
}
