using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>Servers that misbehave in ways a real API server or proxy can: the watch source must stay bounded.</summary>
public sealed class ProtocolEdgeCaseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static DiscoveryConfig Config(ScriptedApiServer server, TimeSpan? idle = null) => new("greeter", 8080)
    {
        Namespace = "demo",
        ClientConfiguration = server.ClientConfiguration,
        Debounce = TimeSpan.Zero,
        IdleTimeout = idle ?? TimeSpan.FromSeconds(30),
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(100), maximum: TimeSpan.FromSeconds(2)),
        StreamingLists = false, // these scripted servers speak the classic LIST + WATCH protocol
    };

    [Test]
    public async Task ListNeverAnswered_ReportsFailingWithinTheIdleTimeout()
    {
        await using var server = ScriptedApiServer.Hanging();

        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(server, idle: TimeSpan.FromMilliseconds(500))));

        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status");
        Assert.That(recorder.Status!.Message, Does.Contain("LIST").And.Contain("no answer"));
        Assert.That(recorder.Status.IsSynchronized, Is.False);
    }

    [Test]
    public async Task WatchesClosedAtOnce_AreRetriedWithBackoffNotInATightLoop()
    {
        await using var server = ScriptedApiServer.ClosingWatches();
        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(server)));
        await recorder.WaitForStatusAsync(s => s.IsSynchronized, Timeout, "synchronisation");

        await recorder.WaitForAsync(() => server.Watches >= 4, Timeout, () => $"4 watches, saw {server.Watches}");
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        var before = server.Watches;
        await recorder.WaitForAsync(() => server.Watches >= before + 2, Timeout, () => "two more watches");

        // Delays grow 100 ms, 200 ms, 400 ms, 800 ms ... (±20%): two more watches after the fourth take well over 1 s.
        Assert.That(elapsed.Elapsed, Is.GreaterThan(TimeSpan.FromMilliseconds(900)));
        Assert.That(server.Lists, Is.EqualTo(1), "an early end resumes the watch; it does not relist");
    }

    [Test]
    public async Task WatchAnsweredWithHttp410_Relists()
    {
        await using var server = ScriptedApiServer.GoneWatches();

        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(server)));

        await recorder.WaitForAsync(() => server.Lists >= 3, Timeout, () => $"relists after 410, saw {server.Lists} lists and {server.Watches} watches");
        Assert.That(recorder.Status!.IsSynchronized, Is.True);
    }
}
