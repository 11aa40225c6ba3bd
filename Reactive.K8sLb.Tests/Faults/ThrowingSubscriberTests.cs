using System.Net;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Faults;

/// <summary>
/// A subscriber whose observer throws must not stop discovery, nor be taken for an API failure (before: the exception
/// travelled back into the watch, which reported "failing", restarted and relisted on every throw).
/// </summary>
public sealed class ThrowingSubscriberTests
{
    [Test]
    public async Task ObserverThrowsOnEveryChange_WatchKeepsRunning_NoRelist_LaterChangesArrive()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", 8080));
        service.AddPod("10.0.0.1");
        var logs = new CapturingLoggerFactory();
        var config = new DiscoveryConfig("greeter", "grpc")
        {
            Namespace = "demo",
            ClientConfiguration = emulator.ClientConfiguration,
            Debounce = TimeSpan.Zero,
            LoggerFactory = logs,
        };
        var seen = new List<Change<EndPoint>>();
        using var subscription = KubernetesDiscovery.Observe(config).Subscribe(change =>
        {
            lock (seen) seen.Add(change);
            throw new InvalidOperationException("subscriber bug");
        });
        await Eventually.That(() => { lock (seen) return seen.Count == 1; }, "the first endpoint arrives");

        service.AddPod("10.0.0.2");
        await Eventually.That(() => { lock (seen) return seen.Count == 2; }, "a later endpoint arrives too");

        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List || r.IsStreamingList), Is.EqualTo(1), "one list: the throws did not restart the watch");
        Assert.That(logs.Entries.Where(e => e.EventId.Id is 206 or 207).Select(e => e.Message), Is.Empty, "nothing was reported as an API failure");
        Assert.That(logs.Entries.Count(e => e.EventId.Id == 503), Is.EqualTo(2));
    }
}
