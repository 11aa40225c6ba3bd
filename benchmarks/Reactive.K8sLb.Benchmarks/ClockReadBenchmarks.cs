using System.Diagnostics;
using System.Reactive.Concurrency;
using BenchmarkDotNet.Attributes;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// The clock reads behind <see cref="PickerBenchmarks"/>: a load-aware pick reads the balancer's clock
/// (<c>IScheduler.Now</c>) once, and its call tracker twice more (Start, Complete), so on a host where a clock read is
/// slow it dominates the cost of a pick.
/// </summary>
[MemoryDiagnoser]
public class ClockReadBenchmarks
{
#pragma warning disable CA1859 // the balancer reads its clock through the interface, so do we
    private readonly IScheduler _scheduler = DefaultScheduler.Instance;
#pragma warning restore CA1859

    /// <summary>What the balancer's clock costs (its default scheduler).</summary>
    [Benchmark(Baseline = true)]
    public long SchedulerNow() => _scheduler.Now.UtcTicks;

    /// <summary>The monotonic alternative.</summary>
    [Benchmark]
    public long StopwatchTimestamp() => Stopwatch.GetTimestamp();

    /// <summary>A random draw, two of which every load-aware pick makes.</summary>
    [Benchmark]
    public int RandomNext() => Random.Shared.Next(5);
}
