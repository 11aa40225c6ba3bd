using Reactive.K8sLb.Tests.Discovery;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// Issue 12, item 3: after a 410 the relist succeeds the first time, whatever the connection the expired watch left
/// behind. The API server keeps HTTP/1.1 connections alive, so the LIST that follows a 410 (or any later request) may go
/// out on the very connection the watch used; the watch must hand it back only when its response has been read to the
/// end and no read of it is pending, or not at all.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public sealed class RelistAfterGoneTests
{
    [TestCase(AfterGone.End, 20)]
    [TestCase(AfterGone.EndLater, 20)]
    [TestCase(AfterGone.EndMuchLater, 4)]
    [TestCase(AfterGone.LineThenEnd, 20)]
    [TestCase(AfterGone.Nothing, 4)]
    [TestCase(AfterGone.OnRewatch, 20)]
    public Task GoneEvent_OnKeepAliveConnection_RelistsExactlyOncePerGone(AfterGone after, int rounds) =>
        RunAsync(after, rounds, userClient: false);

    /// <summary>
    /// A client the user supplies has no abortable reads: what keeps its connections whole is that the watcher reads an
    /// expired watch to its end instead of cancelling the read (a server that keeps it open past the grace is the
    /// documented exception).
    /// </summary>
    [TestCase(AfterGone.EndLater, 20)]
    [TestCase(AfterGone.LineThenEnd, 20)]
    public Task GoneEvent_UserSuppliedClient_RelistsExactlyOncePerGone(AfterGone after, int rounds) =>
        RunAsync(after, rounds, userClient: true);

    private static async Task RunAsync(AfterGone after, int rounds, bool userClient)
    {
        await using var server = new KeepAliveApiServer();
        var logs = new CapturingLoggerFactory();
        var config = new DiscoveryConfig("greeter", 8080)
        {
            Namespace = "demo",
            ClientConfiguration = server.ClientConfiguration,
            Debounce = TimeSpan.Zero,
            LoggerFactory = logs,

            // A LIST whose answer was swallowed by a stale read on its connection fails after this, and is retried.
            IdleTimeout = TimeSpan.FromSeconds(3),
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(200), maximum: TimeSpan.FromSeconds(1)),
            StreamingLists = false, // the keep-alive server speaks the classic LIST + WATCH protocol
        };
        using var client = userClient ? new k8s.Kubernetes(server.ClientConfiguration) : null;
        using var recorder = new EndpointSetRecorder(client is null ? KubernetesDiscovery.Observe(config) : KubernetesDiscovery.Observe(config, client));
        await Eventually.That(() => server.OpenWatches == 1, "the first watch");

        for (var round = 1; round <= rounds; round++)
        {
            await server.ExpireOpenWatches(after);
            var expected = round + 1;
            await Eventually.That(() => server.OpenWatches == 1 && server.Lists >= expected, $"the watch after relist {round}");
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(server.Lists, Is.EqualTo(rounds + 1), () => Describe(server));
            Assert.That(logs.Exceptions.Select(e => e.Exception.Message), Is.Empty);
        }
    }

    /// <summary>connection:L(IST) or W(ATCH), in arrival order.</summary>
    private static string Describe(KeepAliveApiServer server) =>
        string.Join("; ", server.Requests.Select(r => $"{r.Connection}:{(r.Watch ? "W" : "L")}"));
}
