// Reactive.K8sLb build script. Public targets: Build, Test (default), Pack, Demo, Bench.
// Small steps (Restore, Compile, RunTests, ...) are composed into those targets.
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text.RegularExpressions;
using System.Xml.Linq;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var solution = "./ReactiveK8sLb.sln";
var artifacts = MakeAbsolute(Directory("./artifacts"));
var testResults = artifacts.Combine("test-results");
var packages = artifacts.Combine("packages");
// build/PackageConsumer is copied here and built against the packages; its NuGet.config names both folders.
var packageConsumer = artifacts.Combine("package-consumer");
var packageConsumerCache = artifacts.Combine("package-consumer-cache");
var testsRan = false;
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
        // The summary line is printed by Teardown, after the steps that follow, whether they fail or not.
        testsRan = true;
        DotNetTest(solution, new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            ResultsDirectory = testResults,
            Loggers = new[] { "trx", "console;verbosity=normal" },
        });
    });

// Packs the libraries from the Compile step's output (package validation runs as part of dotnet pack).
Task("PackLibraries")
    .IsDependentOn("Compile")
    .Does(() =>
    {
        EnsureDirectoryExists(packages);
        CleanDirectory(packages);
        foreach (var project in GetFiles("./Reactive.K8sLb*/*.csproj"))
        {
            if (project.GetFilenameWithoutExtension().ToString().EndsWith(".Tests")) continue;
            DotNetPack(project.FullPath, new DotNetPackSettings
            {
                Configuration = configuration,
                NoBuild = true,
                NoRestore = true,
                OutputDirectory = packages,
            });
        }
    });

// Opens each .nupkg and its .snupkg: what the packaging properties promise must be in the files.
Task("CheckPackages")
    .IsDependentOn("PackLibraries")
    .Does(() =>
    {
        var nupkgs = GetFiles(packages.FullPath + "/*.nupkg");
        if (nupkgs.Count == 0) throw new Exception($"No package in {packages}.");
        var problems = nupkgs.SelectMany(nupkg => CheckPackage(nupkg.FullPath)).ToList();
        if (problems.Count > 0)
        {
            foreach (var problem in problems) Error(problem);
            throw new Exception($"{problems.Count} package problem(s); see above.");
        }

        Information($"{nupkgs.Count} packages checked: docs per TFM, symbols with SourceLink, license, readme, repository, dependency floors.");
    });

// Builds build/PackageConsumer, a new net10.0 project, from a copy under artifacts/ against the packed packages: they
// come from the local feed (the usual sources stay for their dependencies) into a package folder of its own, from
// which earlier copies of the two packages are removed, so restore takes the packages just packed.
Task("BuildPackageConsumer")
    .IsDependentOn("CheckPackages")
    .Does(() =>
    {
        var versions = GetFiles(packages.FullPath + "/*.nupkg").Select(f => ReadPackageVersion(f.FullPath)).Distinct().ToList();
        if (versions.Count != 1) throw new Exception($"The packages should share one version: {string.Join(", ", versions)}.");
        var version = versions[0];
        EnsureDirectoryExists(packageConsumer);
        CleanDirectory(packageConsumer);
        CopyDirectory("./build/PackageConsumer", packageConsumer);
        foreach (var id in new[] { "reactive.k8slb", "reactive.k8slb.testing" })
        {
            var cached = packageConsumerCache.Combine(id);
            if (DirectoryExists(cached)) DeleteDirectory(cached, new DeleteDirectorySettings { Recursive = true, Force = true });
        }

        try
        {
            DotNetBuild(packageConsumer.CombineWithFilePath("PackageConsumer.csproj").FullPath, new DotNetBuildSettings
            {
                Configuration = configuration,
                Verbosity = DotNetVerbosity.Minimal,
                MSBuildSettings = new DotNetMSBuildSettings().WithProperty("PackagesVersion", version),
            });
        }
        catch (Exception ex)
        {
            throw new Exception($"build/PackageConsumer does not build against the packages {version}.", ex);
        }

        Information($"build/PackageConsumer (net10.0) builds against Reactive.K8sLb and Reactive.K8sLb.Testing {version} from {packages}.");
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
Task("Test").IsDependentOn("RunTests").IsDependentOn("BuildPackageConsumer");
Task("Pack").IsDependentOn("BuildPackageConsumer");
Task("Demo").IsDependentOn("RunDemo");

// One benchmark step per line: a further harness is one more .IsDependentOn(...).
Task("Bench")
    .IsDependentOn("RunCoreBenchmarks")
    .IsDependentOn("RunLatencyHarness")
    .IsDependentOn("RunPolicyComparison")
    .Does(() => Information($"Benchmark tables: {benchmarkResults.Combine("results")}; latency and policy comparison: {benchmarkResults}"));

// The plain closing line CI reads is the last line this script prints, after every step, pass or fail.
Teardown(context =>
{
    if (testsRan) PrintTestSummary(testResults);
});

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

// The problems of one package and its .snupkg, each as "<file>: <problem>".
List<string> CheckPackage(string nupkgPath)
{
    var problems = new List<string>();
    var name = System.IO.Path.GetFileName(nupkgPath);
    void Problem(string text) => problems.Add($"{name}: {text}");

    using var zip = ZipFile.OpenRead(nupkgPath);
    var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
    var nuspec = ReadNuspec(zip);
    XElement Metadata(string localName) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == localName);

    // XML documentation beside every assembly, for each target framework.
    var assemblies = entries.Where(e => e.StartsWith("lib/") && e.EndsWith(".dll")).OrderBy(e => e).ToList();
    if (assemblies.Count == 0) Problem("no assembly under lib/");
    foreach (var dll in assemblies.Where(dll => !entries.Contains(dll[..^4] + ".xml")))
    {
        Problem($"no XML documentation beside {dll}");
    }

    // Symbols: a .snupkg with a PDB per assembly, each mapping its sources to the repository (SourceLink).
    var snupkg = System.IO.Path.ChangeExtension(nupkgPath, ".snupkg");
    if (!System.IO.File.Exists(snupkg))
    {
        Problem("no .snupkg beside it");
    }
    else
    {
        using var symbols = ZipFile.OpenRead(snupkg);
        foreach (var dll in assemblies)
        {
            var pdb = symbols.GetEntry(dll[..^4] + ".pdb");
            if (pdb == null) Problem($"its .snupkg has no {dll[..^4]}.pdb");
            else if (!(ReadSourceLink(pdb) ?? "").Contains("https://")) Problem($"{pdb.FullName} in its .snupkg has no SourceLink");
        }
    }

    // License: the expression in the metadata and the text in the package.
    if (string.IsNullOrWhiteSpace(Metadata("license")?.Value)) Problem("no license in the nuspec");
    if (!entries.Contains("LICENSE")) Problem("no LICENSE file");

    // Readme: present, and no link relative to a repository the package page does not have.
    var readme = Metadata("readme")?.Value;
    if (string.IsNullOrEmpty(readme) || !entries.Contains(readme))
    {
        Problem("no readme");
    }
    else
    {
        using var reader = new System.IO.StreamReader(zip.GetEntry(readme).Open());
        foreach (var link in RelativeMarkdownLinks(reader.ReadToEnd())) Problem($"its readme links to '{link}', which resolves nowhere on a package page");
    }

    // Repository metadata: URL and commit (SourceLink), project URL.
    var repository = Metadata("repository");
    if (string.IsNullOrEmpty((string)repository?.Attribute("url"))) Problem("no repository URL in the nuspec");
    if (string.IsNullOrEmpty((string)repository?.Attribute("commit"))) Problem("no repository commit in the nuspec");
    if (string.IsNullOrEmpty(Metadata("projectUrl")?.Value)) Problem("no project URL in the nuspec");

    // Dependency floors: a netN.0 group asks for no platform package (Microsoft.Extensions.*, System.* from the
    // runtime) of a later major version, so a net8.0 consumer is not pulled up to the 10.0 abstractions.
    foreach (var group in nuspec.Descendants().Where(e => e.Name.LocalName == "group" && e.Parent?.Name.LocalName == "dependencies"))
    {
        var framework = (string)group.Attribute("targetFramework") ?? "";
        var frameworkMajor = Regex.Match(framework, @"^net(\d+)\.\d+$");
        if (!frameworkMajor.Success) continue;
        foreach (var dependency in group.Elements().Where(e => e.Name.LocalName == "dependency"))
        {
            var id = (string)dependency.Attribute("id");
            var version = (string)dependency.Attribute("version");
            if (!Regex.IsMatch(id, @"^(Microsoft\.Extensions\.|System\.(?!Reactive|Interactive))")) continue;
            var dependencyMajor = Regex.Match(version, @"\d+");
            if (dependencyMajor.Success && int.Parse(dependencyMajor.Value) > int.Parse(frameworkMajor.Groups[1].Value))
            {
                Problem($"its {framework} build asks for {id} {version}");
            }
        }
    }

    return problems;
}

XDocument ReadNuspec(ZipArchive zip)
{
    using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec") && !e.FullName.Contains('/')).Open();
    return XDocument.Load(stream);
}

string ReadPackageVersion(string nupkgPath)
{
    using var zip = ZipFile.OpenRead(nupkgPath);
    return ReadNuspec(zip).Descendants().First(e => e.Name.LocalName == "version").Value;
}

// The SourceLink JSON of a portable PDB, or null.
string ReadSourceLink(ZipArchiveEntry pdb)
{
    var sourceLinkKind = new Guid("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    using var buffer = new System.IO.MemoryStream();
    using (var stream = pdb.Open()) stream.CopyTo(buffer);
    buffer.Position = 0;
    using var provider = MetadataReaderProvider.FromPortablePdbStream(buffer);
    var reader = provider.GetMetadataReader();
    foreach (var handle in reader.CustomDebugInformation)
    {
        var information = reader.GetCustomDebugInformation(handle);
        if (reader.GetGuid(information.Kind) == sourceLinkKind) return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
    }

    return null;
}

// Inline links outside fenced code with neither a scheme nor an anchor: `](path)`.
IEnumerable<string> RelativeMarkdownLinks(string markdown)
{
    var inFence = false;
    foreach (var line in markdown.Split('\n'))
    {
        if (line.TrimStart().StartsWith("```")) inFence = !inFence;
        if (inFence) continue;
        foreach (Match match in Regex.Matches(line, @"\]\((?![A-Za-z][A-Za-z0-9+.-]*:|#)([^)\s]+)")) yield return match.Groups[1].Value;
    }
}
