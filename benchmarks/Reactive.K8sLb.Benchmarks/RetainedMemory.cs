using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// A measured harness, not a BenchmarkDotNet benchmark: the managed heap kept alive by a synchronized tracker
/// (GC.GetTotalMemory(true) after a full sync minus before it, the input slices alive on both sides so they are not
/// counted), and the bytes allocated on the way (GC.GetAllocatedBytesForCurrentThread).
/// </summary>
public static class RetainedMemory
{
    public const long TargetBytes = 10L * 1024 * 1024;

    public static string Run(IEnumerable<int> endpointCounts)
    {
        ArgumentNullException.ThrowIfNull(endpointCounts);
        var report = new StringBuilder()
            .AppendLine("| Endpoints | Slices | Input slices (heap) | Tracker retained (heap growth) | Naive baseline retained | Allocated during sync |")
            .AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var endpoints in endpointCounts)
        {
            var beforeInput = Settle();
            var reset = SliceEvent.Reset(ServiceModel.AllReady(endpoints));
            var input = Settle() - beforeInput;

            // Warm the code paths once, so JIT and type-loading allocations are not charged to the tracker.
            new EndpointSetTracker(ServiceModel.Config, NullLogger.Instance).Apply(reset);
            new NaiveRecomputeDiff(ServiceModel.PortName).Apply(reset);

            var before = Settle();
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var tracker = new EndpointSetTracker(ServiceModel.Config, NullLogger.Instance);
            var changes = tracker.Apply(reset).Count;
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            var retained = Settle() - before;

            var naive = new NaiveRecomputeDiff(ServiceModel.PortName);
            naive.Apply(reset);
            var naiveRetained = Settle() - before - retained;

            if (changes != endpoints || tracker.Current.Count != endpoints || naive.Current.Count != endpoints)
            {
                throw new InvalidOperationException($"Expected {endpoints} endpoints, tracker has {tracker.Current.Count}, naive {naive.Current.Count}.");
            }

            GC.KeepAlive(tracker);
            GC.KeepAlive(naive);
            GC.KeepAlive(reset);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {endpoints:N0} | {reset.Slices.Count} | {Mb(input)} | {Mb(retained)} | {Mb(naiveRetained)} | {Mb(allocated)} |");
            if (endpoints == 10_000)
            {
                report.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                    $"Target (10,000 endpoints, tracker retained < {Mb(TargetBytes)}): {(retained < TargetBytes ? "MET" : "MISSED")} ({Mb(retained)}).");
                report.AppendLine();
            }
        }

        return report.ToString();
    }

    private static long Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string Mb(long bytes) => bytes < 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0:F2} MB");
}
