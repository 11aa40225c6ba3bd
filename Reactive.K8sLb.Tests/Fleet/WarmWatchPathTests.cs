using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// The first change after the initial sync must not take a cold path: the initial sync is a LIST and a snapshot, the
/// first change a WATCH line and an incremental tracker update, which were left to be JIT-compiled (and their JSON
/// contracts built) when the first change arrived, 25 to 50 ms late (the latency harness's first sample, <c>--no-warmup</c>).
/// These tests assert that the path is run during the initial sync; the timings are in the latency harness.
/// </summary>
[TestFixture]
public sealed class WarmWatchPathTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task Warmup_ReadsOneWatchLineThroughKubernetesClientAndRunsTheTrackersIncrementalPath()
    {
        var result = await WatchPathWarmup.RunAsync(new DiscoveryConfig("warm-direct", "grpc") { Namespace = "demo" });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Failure, Is.Null);
            Assert.That(result.WatchEvents, Is.EqualTo(1), "the canned line came out of KubernetesClient's watch enumerator as a slice");

            // Upsert without the first endpoint (1 remove), upsert it back (1 insert), delete the slice (2 removes).
            Assert.That(result.TrackerChanges, Is.EqualTo(4));
        }
    }

    [Test]
    public async Task Warmup_NumberedPort_SameResult()
    {
        var result = await WatchPathWarmup.RunAsync(new DiscoveryConfig("warm-numbered", 8080));
        Assert.That(result, Is.EqualTo(new WatchPathWarmup.WarmupResult(1, 4, null)));
    }

    [Test]
    public async Task FirstDiscovery_StartsTheWarmupDuringItsInitialSync_AndItSucceeds()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions());
        emulator.AddService("demo", "warm-sync", new EmulatedServicePort("grpc", 8080)).ScaleTo(2, i => $"10.0.0.{i + 1}");
        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(new DiscoveryConfig("warm-sync", "grpc")
        {
            Namespace = "demo",
            ClientConfiguration = emulator.ClientConfiguration,
            Debounce = TimeSpan.Zero,
        }));
        await recorder.WaitForAddressesAsync(["10.0.0.1:8080", "10.0.0.2:8080"], Timeout);

        // Once per process: an earlier discovery in this test run may have started it; none may have skipped it.
        var warmup = WatchPathWarmup.Completion;
        Assert.That(warmup, Is.Not.Null, "a discovery that has synchronized has started the watch-path warm-up");
        var result = await warmup!.WaitAsync(Timeout);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Failure, Is.Null);
            Assert.That(result.WatchEvents, Is.EqualTo(1));
        }
    }
}
