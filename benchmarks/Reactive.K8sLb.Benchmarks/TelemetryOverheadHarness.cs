using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// The listener's cost measured A/B in one process, interleaved: each round times a block of operations without a
/// listener and a block with a <see cref="MeterListener"/> on every instrument of the library's meter (in alternating
/// order), so the drift of a shared machine hits both sides alike. Reports the median of the per-round ratios, which
/// sequential BenchmarkDotNet cases (minutes apart) cannot give within 5% on this machine, and the bytes allocated per
/// operation on each side.
/// </summary>
internal static class TelemetryOverheadHarness
{
    public static string Run(int rounds = 41, int operationsPerBlock = 1_000)
    {
        var bench = new TelemetryOverheadBenchmarks { Endpoints = 10_000, Listening = false };
        bench.Setup();
        try
        {
            var table = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"Telemetry A/B ({rounds} interleaved rounds of {operationsPerBlock} operations per side, 10,000 endpoints)")
                .AppendLine()
                .AppendLine("| Operation | no listener (median µs/op) | listener (median µs/op) | ratio, median of rounds | allocated/op, no listener | allocated/op, listener |")
                .AppendLine("|---|---:|---:|---:|---:|---:|");
            Measure(table, "OneEndpointChanged (tracker)", () => bench.OneEndpointChanged(), rounds, operationsPerBlock);
            Measure(table, "OneEndpointChanged_ToChannel (pipeline, applier, resolver publish)", () => bench.OneEndpointChanged_ToChannel(), rounds, operationsPerBlock);
            return table.ToString();
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static void Measure(StringBuilder table, string name, Action operation, int rounds, int operations)
    {
        for (var i = 0; i < operations * 2; i++) operation(); // warm up both paths (JIT tiers)
        var off = new List<double>();
        var on = new List<double>();
        var ratios = new List<double>();
        long offBytes = 0, onBytes = 0;
        for (var round = 0; round < rounds; round++)
        {
            double withoutListener, withListener;
            if (round % 2 == 0)
            {
                withoutListener = Block(operation, operations, listening: false, ref offBytes);
                withListener = Block(operation, operations, listening: true, ref onBytes);
            }
            else
            {
                withListener = Block(operation, operations, listening: true, ref onBytes);
                withoutListener = Block(operation, operations, listening: false, ref offBytes);
            }

            off.Add(withoutListener);
            on.Add(withListener);
            ratios.Add(withListener / withoutListener);
        }

        double total = (double)rounds * operations;
        table.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {Median(off):F2} | {Median(on):F2} | {Median(ratios):F3} | {offBytes / total:F0} B | {onBytes / total:F0} B |");
    }

    /// <summary>Microseconds per operation over one block.</summary>
    private static double Block(Action operation, int operations, bool listening, ref long allocated)
    {
        using var listener = listening ? Listen() : null;
        var bytes = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < operations; i++) operation();
        var elapsed = Stopwatch.GetElapsedTime(started);
        allocated += GC.GetAllocatedBytesForCurrentThread() - bytes;
        return elapsed.TotalMicroseconds / operations;
    }

    private static MeterListener Listen()
    {
        double sink = 0;
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == K8sLbTelemetry.MeterName) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => sink += value);
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => sink += value);
        listener.Start();
        return listener;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
