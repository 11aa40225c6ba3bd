// Reactive.K8sLb build script. Public targets: Build, Test (default), Pack, Demo, Bench.
// Small steps (Restore, Compile, RunTests, ...) are composed into those targets.
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var solution = "./ReactiveK8sLb.sln";
var artifacts = MakeAbsolute(Directory("./artifacts"));
var testResults = artifacts.Combine("test-results");
// Bench: --full runs BenchmarkDotNet's default jobs (long); otherwise a quick in-process run (a few minutes).
var fullBenchmarks = Argument<bool>("full", false);
var benchmarkResults = artifacts.Combine("benchmarks");

// ---- steps -------------------------------------------------------------------------------------

Task("Restore")
    .Does(() => DotNetRestore(solution));

Task("Compile")
    .IsDependentOn("Restore")
    .Does(() => DotNetBuild(solution, new DotNetBuildSettings
    {
        Configuration = configuration,
        NoRestore = true,
    }));

Task("CleanTestResults")
    .Does(() =>
    {
        EnsureDirectoryExists(testResults);
        CleanDirectory(testResults);
    });

Task("RunTests")
    .IsDependentOn("Compile")
    .IsDependentOn("CleanTestResults")
    .Does(() =>
    {
        Exception failure = null;
        try
        {
            DotNetTest(solution, new DotNetTestSettings
            {
                Configuration = configuration,
                NoBuild = true,
                NoRestore = true,
                ResultsDirectory = testResults,
                Loggers = new[] { "trx", "console;verbosity=normal" },
            });
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        PrintTestSummary(testResults);
        if (failure != null)
        {
            throw failure;
        }
    });

Task("PackLibraries")
    .IsDependentOn("Compile")
    .Does(() =>
    {
        foreach (var project in GetFiles("./Reactive.K8sLb*/*.csproj"))
        {
            if (project.GetFilenameWithoutExtension().ToString().EndsWith(".Tests")) continue;
            DotNetPack(project.FullPath, new DotNetPackSettings
            {
                Configuration = configuration,
                NoBuild = true,
                NoRestore = true,
                OutputDirectory = artifacts.Combine("packages"),
            });
        }
    });

// Tracker vs naive baseline, the Rx pipeline, and the retained-memory harness; tables land in
// artifacts/benchmarks/results (*-report-github.md, RetainedMemory.md).
Task("RunCoreBenchmarks")
    .Does(() => DotNetRun(
        "./benchmarks/Reactive.K8sLb.Benchmarks/Reactive.K8sLb.Benchmarks.csproj",
        new ProcessArgumentBuilder()
            .Append("--filter").Append("*")
            .Append(fullBenchmarks ? "--full" : "--quick")
            .Append("--memory")
            .Append("--artifacts").AppendQuoted(benchmarkResults.FullPath),
        new DotNetRunSettings { Configuration = "Release" }));

// End to end on the API emulator with real gRPC pods: latency percentiles, DNS-style baseline, rollout, initial sync.
Task("RunLatencyHarness")
    .Does(() =>
    {
        var arguments = new ProcessArgumentBuilder().Append("--out").AppendQuoted(benchmarkResults.CombineWithFilePath("latency-results.md").FullPath);
        if (fullBenchmarks) arguments.Append("--full");
        DotNetRun("./benchmarks/Reactive.K8sLb.Latency/Reactive.K8sLb.Latency.csproj", arguments, new DotNetRunSettings { Configuration = "Release" });
    });

// Same harness, --policy-comparison: round_robin vs the old and the new newest-first policy on a flapping pod and on a
// new pod (about 2 min; --full takes 200 reps of the new-pod case).
Task("RunPolicyComparison")
    .Does(() =>
    {
        var arguments = new ProcessArgumentBuilder().Append("--policy-comparison")
            .Append("--out").AppendQuoted(benchmarkResults.CombineWithFilePath("newest-first-results.md").FullPath);
        if (fullBenchmarks) arguments.Append("--full");
        DotNetRun("./benchmarks/Reactive.K8sLb.Latency/Reactive.K8sLb.Latency.csproj", arguments, new DotNetRunSettings { Configuration = "Release" });
    });

Task("RunDemo")
    .IsDependentOn("Compile")
    .Does(() => DotNetRun("./examples/Demo/Demo.csproj", new ProcessArgumentBuilder().Append("--no-ui").Append("--duration").Append("15"), new DotNetRunSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
    }));

// ---- public targets ----------------------------------------------------------------------------

Task("Build").IsDependentOn("Compile");
Task("Test").IsDependentOn("RunTests");
Task("Pack").IsDependentOn("PackLibraries");
Task("Demo").IsDependentOn("RunDemo");

// One benchmark step per line: a further harness is one more .IsDependentOn(...).
Task("Bench")
    .IsDependentOn("RunCoreBenchmarks")
    .IsDependentOn("RunLatencyHarness")
    .IsDependentOn("RunPolicyComparison")
    .Does(() => Information($"Benchmark tables: {benchmarkResults.Combine("results")}; latency and policy comparison: {benchmarkResults}"));

RunTarget(target);

// ---- helpers -----------------------------------------------------------------------------------

// Sums the TRX files of this run and prints the plain closing line CI reads: "N passed, N failed, N skipped".
void PrintTestSummary(DirectoryPath directory)
{
    int passed = 0, failed = 0, skipped = 0;
    foreach (var trx in GetFiles(directory.FullPath + "/**/*.trx"))
    {
        var counters = XDocument.Load(trx.FullPath).Descendants().FirstOrDefault(e => e.Name.LocalName == "Counters");
        if (counters == null) continue;
        int Read(string name) => int.TryParse((string)counters.Attribute(name), out var n) ? n : 0;
        passed += Read("passed");
        failed += Read("failed") + Read("error") + Read("timeout") + Read("aborted");
        skipped += Read("notExecuted");
    }

    Information("");
    // Plain Console output: Cake's logger colours numbers, and CI reads this line as text.
    Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
}
