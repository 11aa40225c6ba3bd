using System.Diagnostics;
using k8s;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// Issue 12, item 2, on the emulator: 50 independent clients (each its own Kubernetes client and subscription) on one
/// Service, the API server restarted three times. Each client's first request after the break is measured from the
/// emulator's request log (<see cref="RequestLogStatistics"/>). A restart keeps objects and history, so every watch
/// resumes by resourceVersion: no LIST at all.
/// </summary>
public sealed class FleetRestartTests
{
    private const int Clients = 50;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task ApiRestart_FiftyClients_FirstRequestsSpreadOverAtLeastOneSecond_NoRelist()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        emulator.AddService("demo", "fleet-restart").AddPod("10.1.0.1");
        var backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(200), maximum: TimeSpan.FromSeconds(2))
        {
            // The emulator takes up to about 0.85 s to restart: retries due meanwhile are refused and come later (retry 2).
            // The window is capped at Maximum.
            FirstRetryWindow = TimeSpan.FromSeconds(2),
        };
        var clients = Enumerable.Range(0, Clients)
            .Select(i => new Kubernetes(emulator.ClientConfiguration, new WatchResponseHeadersHandler(), new UserAgentHandler($"client-{i}")))
            .ToList();
        var recorders = clients.Select(client => new EndpointSetRecorder(KubernetesDiscovery.Observe(
            new DiscoveryConfig("fleet-restart", 8080) { Namespace = "demo", Debounce = TimeSpan.Zero, Backoff = backoff },
            client))).ToList();
        try
        {
            await emulator.WaitForOpenWatchesAsync(Clients, Timeout);
            var spreads = new List<RequestSpread>();
            for (var restart = 0; restart < 3; restart++)
            {
                var since = Stopwatch.GetTimestamp();
                await emulator.RestartAsync();
                await emulator.WaitForOpenWatchesAsync(Clients, Timeout);
                var after = emulator.Requests.Where(r => r.Timestamp >= since && r.UserAgent is not null).ToList();
                var spread = RequestLogStatistics.FirstRequestsAfter(after, since, r => r.UserAgent);
                spreads.Add(spread);
                TestContext.Out.WriteLine(
                    $"restart {restart + 1}: first requests {spread.Earliest.TotalMilliseconds:0} / {spread.Median.TotalMilliseconds:0} / "
                    + $"{spread.Latest.TotalMilliseconds:0} ms (min / p50 / max), spread {spread.Spread.TotalMilliseconds:0} ms, "
                    + $"busiest 100 ms: {spread.BusiestWindowCount}, lists {after.Count(r => r.Kind == RequestKind.List)}, requests {after.Count}");
                using (Assert.EnterMultipleScope())
                {
                    Assert.That(spread.FirstRequestByClient, Has.Count.EqualTo(Clients));
                    Assert.That(spread.Spread, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
                    Assert.That(after.Where(r => r.Kind == RequestKind.List || r.IsStreamingList), Is.Empty, "a restart keeps history: watches resume");
                }
            }
        }
        finally
        {
            recorders.ForEach(r => r.Dispose());
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>
    /// Clients that just listed, with watches that have not delivered a line yet (no bookmark comes) and user clients
    /// (no response-headers signal): the completed list counts as healthy, so a restart right then still spreads the
    /// first retries over the window instead of bunching them around Backoff.Initial.
    /// </summary>
    [Test]
    public async Task ApiRestartRightAfterTheList_UserClients_FirstRetriesStillSpread()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { BookmarkInterval = TimeSpan.FromHours(1) });
        emulator.AddService("demo", "fleet-fresh").AddPod("10.1.0.1");
        var clients = Enumerable.Range(0, Clients)
            .Select(i => new Kubernetes(emulator.ClientConfiguration, new UserAgentHandler($"client-{i}")))
            .ToList();
        var recorders = clients.Select(client => new EndpointSetRecorder(KubernetesDiscovery.Observe(
            new DiscoveryConfig("fleet-fresh", 8080)
            {
                Namespace = "demo",
                Debounce = TimeSpan.Zero,
                StreamingLists = false,

                // As above: a window longer than the emulator's restart (up to about 0.85 s, more under load).
                Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(250), maximum: TimeSpan.FromSeconds(2)) { FirstRetryWindow = TimeSpan.FromSeconds(2) },
            },
            client))).ToList();
        try
        {
            await emulator.WaitForOpenWatchesAsync(Clients, Timeout);
            var since = Stopwatch.GetTimestamp();
            await emulator.RestartAsync();
            await emulator.WaitForOpenWatchesAsync(Clients, Timeout);
            var spread = RequestLogStatistics.FirstRequestsAfter(emulator.Requests, since, r => r.UserAgent);
            TestContext.Out.WriteLine($"first requests {spread.Earliest.TotalMilliseconds:0} / {spread.Median.TotalMilliseconds:0} / {spread.Latest.TotalMilliseconds:0} ms, busiest 100 ms: {spread.BusiestWindowCount}");

            // Uniform over [0, 2 s): 50 first retries within 1 s of each other has a probability below 1e-13; around
            // Backoff.Initial (250 ms ± 20 %), or their second tries after a refused first one, they fall within 300 ms.
            Assert.That(spread.FirstRequestByClient, Has.Count.EqualTo(Clients));
            Assert.That(spread.Spread, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)));
        }
        finally
        {
            recorders.ForEach(r => r.Dispose());
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Names the client in every request, so the request log can tell the fleet apart.</summary>
    private sealed class UserAgentHandler(string name) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.UserAgent.Clear();
            request.Headers.TryAddWithoutValidation("User-Agent", name);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
