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
    [TestCase(AfterGone.Nothing, 20)]
    [TestCase(AfterGone.OnRewatch, 20)]
    public async Task GoneEvent_OnKeepAliveConnection_RelistsExactlyOncePerGone(AfterGone after, int rounds)
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
        };
        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(config));
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
