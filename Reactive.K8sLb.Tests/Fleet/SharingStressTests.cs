using System.Collections.Concurrent;
using k8s;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Sharing;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// Shared watches under concurrent churn: many concurrent tasks subscribe to and dispose shared discoveries of the same and of
/// different Services, through two API identities (one stopping its watches at once, one lingering), so that joins,
/// leaves, watch starts and stops, linger take-overs and pooled client creations and disposals race each other. Then
/// the invariants: every subscription that stayed follows the endpoints; once all are gone, no pooled client, no
/// shared watch and no open watch is left for this emulator; nothing failed or was logged as an error on the way.
/// </summary>
public sealed class SharingStressTests
{
    private const string Ns = "stress";
    private const int Tasks = 8;
    private const int RoundsPerTask = 40;
    private const int KeptPerTask = 3;
    private static readonly string[] Services = ["alpha", "beta", "gamma", "delta", "epsilon"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task ConcurrentSubscribeAndDispose_KeptSubscriptionsFollowTheEndpoints_AndEverythingIsReleased()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) });
        var services = Services.Select((name, i) =>
        {
            var service = emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 8080));
            service.ScaleTo(i + 1, p => Ip(i, p));
            return service;
        }).ToList();
        var logs = new CapturingLoggerFactory();
        var kept = new ConcurrentBag<(int Service, EndpointSetRecorder Recorder)>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var threads = Enumerable.Range(0, Tasks).Select(thread => Task.Run(async () =>
        {
            var random = new Random(thread);
            EndpointSetRecorder? pending = null;
            await start.Task;
            for (var round = 0; round < RoundsPerTask; round++)
            {
                var service = random.Next(Services.Length);
                var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(emulator, Services[service], lingering: random.Next(2) == 1, logs)));
                if (round >= RoundsPerTask - KeptPerTask)
                {
                    // The last rounds stay, joining whatever the churn left: a running, lingering, stopping or new watch.
                    kept.Add((service, recorder));
                    continue;
                }

                switch (random.Next(4))
                {
                    case 0:
                        recorder.Dispose();
                        break;
                    case 1:
                    case 2:
                        // Left once it has its first snapshot: the watch is live (a LIST done, a WATCH open or opening).
                        await recorder.WaitForStatusAsync(_ => true, Timeout, "a first snapshot");
                        recorder.Dispose();
                        break;
                    default:
                        // Left a little later, at the next round of this task: leaves interleave with other joins.
                        pending?.Dispose();
                        pending = recorder;
                        continue;
                }
            }

            pending?.Dispose();
        })).ToList();
        start.SetResult();
        try
        {
            await Task.WhenAll(threads).WaitAsync(Timeout);
            TestContext.Out.WriteLine(
                $"{kept.Count} of {Tasks * RoundsPerTask} subscriptions kept; during the churn the API got "
                + $"{emulator.Requests.Count(r => r.Kind == RequestKind.List)} LISTs and {emulator.Requests.Count(r => r.Kind == RequestKind.Watch)} WATCHes");
            Assert.That(kept.Select(k => k.Service).Distinct().Count(), Is.EqualTo(Services.Length), "the seeded run keeps subscriptions on every Service");

            // The endpoints change after the churn: every subscription that stayed must follow.
            for (var i = 0; i < services.Count; i++) services[i].ScaleTo(i + 2, p => Ip(i, p));
            foreach (var (service, recorder) in kept)
            {
                await recorder.WaitForAddressesAsync(Enumerable.Range(0, service + 2).Select(p => $"{Ip(service, p)}:8080"), Timeout);
                await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Healthy, Timeout, "healthy");
            }

            using (Assert.EnterMultipleScope())
            {
                Assert.That(kept.SelectMany(k => k.Recorder.Violations), Is.Empty);
                Assert.That(logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => e.Message), Is.Empty);
            }
        }
        finally
        {
            foreach (var (_, recorder) in kept) recorder.Dispose();
        }

        // Everything released: the lingering identity's watches stop after their linger.
        var host = emulator.BaseUri.ToString();
        await Eventually.That(
            () => KubernetesClientPool.CountWhere(i => i.Configuration?.Host == host) == 0
                && SharedWatches.CountWhere(k => k.Api.Configuration?.Host == host) == 0
                && emulator.OpenWatchCount == 0,
            Timeout,
            "no pooled client, shared watch or open watch left for this emulator");
    }

    private static string Ip(int service, int pod) => $"10.{service + 1}.0.{pod + 1}";

    /// <summary>
    /// Two API identities (the user agent is part of it, the linger part of the sharing key): one whose watches stop
    /// with their last subscription, one whose watches linger, so a join may take over a lingering watch.
    /// </summary>
    private static DiscoveryConfig Config(KubernetesApiEmulator emulator, string service, bool lingering, CapturingLoggerFactory logs) => new(service, "grpc")
    {
        Namespace = Ns,
        ClientConfiguration = new KubernetesClientConfiguration { Host = emulator.BaseUri.ToString(), UserAgent = lingering ? "lingering" : "prompt" },
        Debounce = TimeSpan.Zero,
        LoggerFactory = logs,
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(1)),
        ShareLinger = lingering ? TimeSpan.FromMilliseconds(100) : TimeSpan.Zero,
    };
}
