using System.Collections.Concurrent;
using System.Diagnostics;
using k8s;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// An API server restart that loses the watch history (<see cref="KubernetesApiEmulator.RestartAsync(bool)"/>): every
/// client's resumed watch gets 410 Gone, and each must list again exactly once, not once per retry or per event, and
/// end with the current endpoints. Thirty independent clients (a distinct API identity each, so no sharing), told
/// apart in the emulator's request log by their user agent.
/// </summary>
public sealed class HistoryLosingRestartTests
{
    private const int Clients = 30;
    private const string Ns = "demo";
    private const string Service = "relist-once";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task ApiRestartLosingHistory_ThirtyClients_EachGetsGoneAndRelistsExactlyOnce_AllEndWithTheEndpoints()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) });
        var service = emulator.AddService(Ns, Service);
        service.AddPod("10.1.0.1");
        service.AddPod("10.1.0.2");
        var recorders = Enumerable.Range(0, Clients).Select(i => new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(emulator, i)))).ToList();
        var gone = new ConcurrentQueue<WatchEventWritten>();
        void OnEvent(WatchEventWritten e)
        {
            if (e.EventType == WatchEventType.Error) gone.Enqueue(e);
        }

        try
        {
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(["10.1.0.1:8080", "10.1.0.2:8080"], Timeout);
            await emulator.WaitForOpenWatchesAsync(Clients, Timeout);

            emulator.EventWritten += OnEvent;
            var since = Stopwatch.GetTimestamp();
            await emulator.RestartAsync(loseHistory: true);
            service.AddPod("10.1.0.3");

            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(["10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.3:8080"], Timeout);
            await emulator.WaitForOpenWatchesAsync(Clients, Timeout);

            var after = emulator.Requests.Where(r => r.Timestamp >= since && r.UserAgent is not null).ToList();
            var listsByClient = after.GroupBy(r => r.UserAgent!).ToDictionary(g => g.Key, g => g.Count(IsList));
            using (Assert.EnterMultipleScope())
            {
                Assert.That(listsByClient.Keys, Is.EquivalentTo(Enumerable.Range(0, Clients).Select(UserAgent)), "every client came back");
                Assert.That(listsByClient.Where(c => c.Value != 1).Select(c => $"{c.Key}: {c.Value}"), Is.Empty, "one relist each");
                Assert.That(gone, Has.Count.EqualTo(Clients), "every resumed watch got 410 Gone, once");
                Assert.That(recorders.SelectMany(r => r.Violations), Is.Empty);
            }
        }
        finally
        {
            emulator.EventWritten -= OnEvent;
            recorders.ForEach(r => r.Dispose());
        }
    }

    /// <summary>
    /// Whether a request is a list, i.e. a relist after the break. Today the watcher lists with a LIST request; with
    /// streaming lists a WATCH asking for the initial events (<c>sendInitialEvents=true</c>) takes its place, and counts
    /// as the list here. The one place to adapt if the way a client lists changes again.
    /// </summary>
    private static bool IsList(RecordedRequest request) =>
        request.Kind == RequestKind.List
        || (request.Kind == RequestKind.Watch && request.Query.TryGetValue("sendInitialEvents", out var initial) && initial == "true");

    private static string UserAgent(int client) => $"relist-client-{client}";

    private static DiscoveryConfig Config(KubernetesApiEmulator emulator, int client) => new(Service, 8080)
    {
        Namespace = Ns,
        Debounce = TimeSpan.Zero,
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(100), maximum: TimeSpan.FromSeconds(1)),

        // A user agent of its own: another API identity (a client and a watch of its own), and its name in the request log.
        ClientConfiguration = new KubernetesClientConfiguration { Host = emulator.BaseUri.ToString(), UserAgent = UserAgent(client) },
    };
}
