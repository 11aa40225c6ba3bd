using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Reactive.K8sLb.Benchmarks;

// Modes (our own switches, removed before BenchmarkDotNet sees the arguments):
//   (none)    Job.ShortRun: out-of-process, 3 warmups, 3 iterations. The CI default.
//   --quick   in-process (InProcessEmitToolchain, no separate build), 1 warmup, 3 iterations: a smoke run.
//   --full    BenchmarkDotNet's default job, for numbers worth comparing.
//   --memory  also run the retained-memory harness (10, 1,000, 10,000 endpoints) and write RetainedMemory.md.
//   --telemetry-ab  only the interleaved listener/no-listener harness (TelemetryOverheadHarness), printed as a table.
//   --sharing       only the shared-watch harness (SharingHarness): requests and memory for 1, 10, 100 subscriptions.
//   --fleet [N]     only the fleet harness (FleetHarness): N (default 50) independent clients, streaming lists off/on.
// Everything else goes to BenchmarkSwitcher, e.g. --filter *Tracker*.
if (args.Contains("--fleet"))
{
    var at = Array.IndexOf(args, "--fleet");
    var clients = at + 1 < args.Length && int.TryParse(args[at + 1], out var n) ? n : 50;
    Console.WriteLine(await FleetHarness.RunAsync(clients, TimeSpan.FromSeconds(20)).ConfigureAwait(false));
    return 0;
}

if (args.Contains("--sharing"))
{
    Console.WriteLine(await SharingHarness.RunAsync().ConfigureAwait(false));
    return 0;
}

if (args.Contains("--telemetry-ab"))
{
    Console.WriteLine(TelemetryOverheadHarness.Run());
    return 0;
}

var quick = args.Contains("--quick");
var full = args.Contains("--full");
var memory = args.Contains("--memory");
var rest = args.Where(a => a is not ("--quick" or "--full" or "--memory")).ToArray();

var job = full ? Job.Default
    : quick ? Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).WithId("Quick")
    : Job.ShortRun;
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(job)
    .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));

var artifactsAt = Array.IndexOf(rest, "--artifacts");
if (memory)
{
    var table = RetainedMemory.Run([10, 1_000, 10_000]);
    Console.WriteLine();
    Console.WriteLine("Retained memory (managed heap growth of a synchronized tracker)");
    Console.WriteLine(table);
    var artifacts = artifactsAt >= 0 && artifactsAt + 1 < rest.Length ? rest[artifactsAt + 1] : DefaultConfig.Instance.ArtifactsPath;
    var results = Path.Combine(artifacts, "results");
    Directory.CreateDirectory(results);
    await File.WriteAllTextAsync(Path.Combine(results, "RetainedMemory.md"), table).ConfigureAwait(false);
}

// "--memory" alone (or with just --artifacts) runs only the harness; BenchmarkSwitcher would otherwise prompt.
if (!memory || rest.Length > (artifactsAt >= 0 ? 2 : 0))
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(TrackerBenchmarks).Assembly).Run(rest, config);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}

return 0;
