using System.Diagnostics;
using System.Globalization;

namespace Demo;

/// <summary>The closing summary: calls, failures, calls per pod and the reaction time of each story step.</summary>
internal static class Summary
{
    public static void PrintCalls(CallLoad load)
    {
        Console.WriteLine();
        Console.WriteLine("==== summary ====");
        Console.WriteLine($"total calls: {load.Total}, failed calls: {load.Failed}");
        foreach (var failure in load.Failures) Console.WriteLine($"  failure: {failure}");
        Console.WriteLine("calls per pod:");
        foreach (var (pod, calls) in load.PerPod.OrderBy(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal)) Console.WriteLine($"  {pod,-14} {calls,7}");
    }

    public static void Print(CallLoad load, Story story, PodServers servers, long end, DemoMetrics metrics)
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

        if (story.OutageRecovery is { } recovery)
        {
            Console.WriteLine($"  {"API outage",-34} watch back {recovery.TotalMilliseconds:F0} ms after the API recovered; calls kept flowing to the last known pods");
        }

        metrics.PrintSummary(Console.Out);
        Console.WriteLine(load.Failed == 0 ? "RESULT: OK, no call failed" : $"RESULT: FAILED, {load.Failed} calls failed");
    }

    private static string Ms(long from, long to) =>
        string.Create(CultureInfo.InvariantCulture, $"{Stopwatch.GetElapsedTime(from, to).TotalMilliseconds:F1} ms");
}
