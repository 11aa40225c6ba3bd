using System.Diagnostics;
using System.Globalization;
using System.Text;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// The cost of 1, 10 and 100 subscriptions on one Service in one process, shared and not shared: API requests (from the
/// emulator's request log) and managed memory (<see cref="GC.GetTotalMemory(bool)"/> after a forced collection, before
/// the subscriptions and once all are synchronized with their watches open). The emulator runs in this process, so its
/// per-watch state is part of the memory figures.
/// </summary>
internal static class SharingHarness
{
    private const string Ns = "fleet";
    private const string Service = "measured";
    private const int Pods = 10;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<string> RunAsync()
    {
        var table = new StringBuilder()
            .AppendLine("| subscriptions | shared | LISTs | streaming lists | other WATCHes | open watches | managed memory (KiB) | per subscription (KiB) |")
            .AppendLine("|---:|:---:|---:|---:|---:|---:|---:|---:|");
        foreach (var shared in new[] { true, false })
        {
            // Warm-up: JIT and first-use allocations are not part of any row.
            await MeasureAsync(1, shared).ConfigureAwait(false);
            foreach (var count in new[] { 1, 10, 100 })
            {
                var (lists, streaming, watches, open, bytes) = await MeasureAsync(count, shared).ConfigureAwait(false);
                table.AppendLine(CultureInfo.InvariantCulture, $"| {count} | {(shared ? "yes" : "no")} | {lists} | {streaming} | {watches} | {open} | {bytes / 1024.0:F0} | {bytes / 1024.0 / count:F1} |");
            }
        }

        return table.ToString();
    }

    private static async Task<(int Lists, int Streaming, int Watches, int Open, long Bytes)> MeasureAsync(int count, bool shared)
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync().ConfigureAwait(false);
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(Pods, i => $"10.2.0.{i + 1}");
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var synchronized = 0;
        var subscriptions = new List<IDisposable>(count);
        for (var i = 0; i < count; i++)
        {
            var config = new DiscoveryConfig(Service, "grpc") { Namespace = Ns, ClientConfiguration = emulator.ClientConfiguration, ShareWatch = shared };
            var size = 0;
            var counted = false;
            subscriptions.Add(KubernetesDiscovery.Observe(config).Updates.Subscribe(update =>
            {
                size += update.Changes.Count(c => c.Kind == ChangeKind.Insert) - update.Changes.Count(c => c.Kind == ChangeKind.Remove);
                if (!counted && update.Status.IsSynchronized && size == Pods)
                {
                    counted = true;
                    Interlocked.Increment(ref synchronized);
                }
            }));
        }

        var started = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref synchronized) != count)
        {
            if (Stopwatch.GetElapsedTime(started) > Timeout) throw new TimeoutException($"{synchronized} of {count} subscriptions synchronized.");
            await Task.Delay(10).ConfigureAwait(false);
        }

        await emulator.WaitForOpenWatchesAsync(shared ? 1 : count, Timeout).ConfigureAwait(false);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var requests = emulator.Requests;
        var result = (
            requests.Count(r => r.Kind == RequestKind.List),
            requests.Count(r => r.IsStreamingList),
            requests.Count(r => r.Kind == RequestKind.Watch && !r.IsStreamingList),
            emulator.OpenWatchCount,
            after - before);
        subscriptions.ForEach(s => s.Dispose());
        await emulator.WaitForOpenWatchesAsync(0, Timeout).ConfigureAwait(false);
        return result;
    }
}
