using System.Diagnostics;
using System.Globalization;

namespace Demo;

/// <summary>The closing summary: calls, failures, calls per pod, the reaction time of each story step and the failing
/// pod's ejection.</summary>
internal static class Summary
{
    public static void PrintCalls(CallLoad load)
    {
        Console.WriteLine();
        Console.WriteLine("==== summary ====");
        Console.WriteLine(load.FailedByPods == 0
            ? $"total calls: {load.Total}, failed calls: {load.Failed}"
            : $"total calls: {load.Total}, failed calls: {load.Failed} ({load.FailedByPods} answered by the failing pod itself)");
        foreach (var failure in load.Failures) Console.WriteLine($"  failure: {failure}");
        Console.WriteLine("calls per pod:");
        foreach (var (pod, calls) in load.PerPod.OrderBy(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal)) Console.WriteLine($"  {pod,-14} {calls,7}");
    }

    public static void Print(CallLoad load, Story story, PodServers servers, long end, DemoMetrics metrics, EjectionReport? ejection)
    {
        PrintCalls(load);
        Console.WriteLine("reaction times (emulator wrote the watch event -> first call served by an added pod / last call served by a removed pod):");
        var steps = story.Steps;
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var until = i + 1 < steps.Count ? steps[i + 1].Started : end;
            var written = story.FirstEventAfter(step.Started);
            if (written is not { } eventAt)
            {
                Console.WriteLine($"  {step.Label,-34} no watch event seen");
                continue;
            }

            var parts = new List<string>();
            foreach (var pod in step.Added)
            {
                var first = servers.Served(pod).Where(t => t >= eventAt).Cast<long?>().FirstOrDefault();
                parts.Add(first is { } t ? $"+{pod} first call after {Ms(eventAt, t)}" : $"+{pod} no call yet");
            }

            foreach (var pod in step.Removed)
            {
                var last = servers.Served(pod).Where(t => t >= eventAt && t < until).Cast<long?>().LastOrDefault();
                parts.Add(last is { } t ? $"-{pod} last call after {Ms(eventAt, t)}" : $"-{pod} no call after the event");
            }

            Console.WriteLine($"  {step.Label,-34} {string.Join("; ", parts)}");
        }

        if (story.SlowPod is { } slow)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"slow pod {slow.Pod} (+50 ms per call, still ready): {slow.Before:P0} of the calls before, {slow.WhileSlow:P0} while slow (fair share {slow.FairShare:P0}; the policy {(slow.WhileSlow < slow.FairShare / 2 ? "sent it less" : "did not look at its latency")})"));
        }

        if (story.OutageRecovery is { } recovery)
        {
            Console.WriteLine($"  {"API outage",-34} watch back {recovery.TotalMilliseconds:F0} ms after the API recovered; calls kept flowing to the last known pods");
        }

        if (ejection is not null)
        {
            foreach (var line in ejection.Lines()) Console.WriteLine(line);
        }

        metrics.PrintSummary(Console.Out);
        Console.WriteLine(Result(load, ejection));
    }

    /// <summary>Whether the run went as it should: no failed call apart from the failing pod's own answers, and the
    /// failing pod's step passed (see <see cref="EjectionReport.Passed"/>).</summary>
    public static bool Succeeded(CallLoad load, EjectionReport? ejection) =>
        load.Failed == load.FailedByPods && (ejection?.Passed ?? load.FailedByPods == 0);

    private static string Result(CallLoad load, EjectionReport? ejection)
    {
        var others = load.Failed - load.FailedByPods;
        if (!Succeeded(load, ejection))
        {
            return others > 0 ? $"RESULT: FAILED, {others} calls failed" : "RESULT: FAILED, the failing pod's ejection did not go as it should (above)";
        }

        return ejection is null || ejection.FailedCalls == 0
            ? "RESULT: OK, no call failed"
            : $"RESULT: OK, no call failed apart from the failing pod's {ejection.FailedCalls} answers before its ejection";
    }

    private static string Ms(long from, long to) =>
        string.Create(CultureInfo.InvariantCulture, $"{Stopwatch.GetElapsedTime(from, to).TotalMilliseconds:F1} ms");
}
