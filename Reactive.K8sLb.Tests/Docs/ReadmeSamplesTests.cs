using System.Reactive;
using System.Text.RegularExpressions;
using Microsoft.Reactive.Testing;

namespace Reactive.K8sLb.Tests.Docs;

/// <summary>
/// README.md and examples/ReadmeSamples cannot drift: every ```csharp block of the README must appear, line by line
/// (trimmed, blank lines ignored) and in order, in one C# file under examples/ReadmeSamples, which the build compiles.
/// </summary>
public sealed partial class ReadmeSamplesTests
{
    private static readonly Lazy<string> LazyRepoRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ReactiveK8sLb.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("ReactiveK8sLb.sln not found above the test directory.");
    });

    private static string RepoRoot => LazyRepoRoot.Value;

    private static IEnumerable<TestCaseData> ReadmeBlocks() =>
        CSharpBlocks(File.ReadAllText(Path.Combine(RepoRoot, "README.md")))
            .Select((block, i) => new TestCaseData(block).SetArgDisplayNames($"block {i + 1}: {(block.Count > 0 ? block[0] : string.Empty)}"));

    [Test]
    public void Readme_HasCSharpSamples()
    {
        Assert.That(ReadmeBlocks().Count(), Is.GreaterThanOrEqualTo(5));
    }

    [Test]
    public void Readme_KeepsTheTestCommandLine()
    {
        Assert.That(File.ReadAllText(Path.Combine(RepoRoot, "README.md")), Does.Contain("dotnet tool restore && dotnet cake --target=Test"));
    }

    [TestCaseSource(nameof(ReadmeBlocks))]
    public void ReadmeCSharpBlock_AppearsInOrderInACompiledSample(IReadOnlyList<string> block)
    {
        var files = Directory.EnumerateFiles(Path.Combine(RepoRoot, "examples", "ReadmeSamples"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();

        var matching = files.Where(path => ContainsInOrder(NonBlankTrimmed(File.ReadAllText(path)), block)).ToList();

        Assert.That(matching, Is.Not.Empty, "this README block is not (line by line, in order) in any file under examples/ReadmeSamples:\n" + string.Join('\n', block));
    }

    [Test]
    public void ContainsInOrder_MissingOrReorderedLine_IsRejected()
    {
        string[] file = ["a", "b", "c"];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ContainsInOrder(file, ["a", "c"]), Is.True);
            Assert.That(ContainsInOrder(file, ["c", "a"]), Is.False);
            Assert.That(ContainsInOrder(file, ["a", "x"]), Is.False);
        }
    }

    [Test]
    public void VirtualTimeSample_EmitsOneNetChangeAfterTheQuietWindow()
    {
        var messages = ReadmeSamples.Samples.VirtualTime();

        Assert.That(messages, Is.EqualTo(new[]
        {
            new Recorded<Notification<Change<string>>>(180, Notification.CreateOnNext(Change.Insert("10.0.0.2"))),
        }));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task EmulatorSample_FirstSynchronizedUpdate_InsertsTheThreePods()
    {
        var changes = await ReadmeSamples.Samples.Emulator();

        Assert.That(changes.Select(c => c.ToString()), Is.EquivalentTo(new[]
        {
            "Insert 10.0.0.1:50051", "Insert 10.0.0.2:50051", "Insert 10.0.0.3:50051",
        }));
    }

    private static List<IReadOnlyList<string>> CSharpBlocks(string markdown) =>
        [.. CSharpBlock().Matches(markdown).Select(m => (IReadOnlyList<string>)NonBlankTrimmed(m.Groups["code"].Value))];

    private static string[] NonBlankTrimmed(string text) =>
        [.. text.ReplaceLineEndings("\n").Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0)];

    private static bool ContainsInOrder(IReadOnlyList<string> file, IReadOnlyList<string> block)
    {
        var next = 0;
        foreach (var line in file)
        {
            if (next < block.Count && line == block[next]) next++;
        }

        return next == block.Count;
    }

    [GeneratedRegex(@"^```csharp[ \t]*\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
