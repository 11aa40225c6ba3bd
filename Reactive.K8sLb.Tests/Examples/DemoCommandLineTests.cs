extern alias demo;

using demo::Demo;

namespace Reactive.K8sLb.Tests.Examples;

/// <summary>The demo's command line: help, one-line errors with exit code 2, and no live UI when output is redirected.</summary>
public sealed class DemoCommandLineTests
{
    [TestCase("--help")]
    [TestCase("-h")]
    [TestCase("-?")]
    [TestCase("--pods", "x", "--help")]
    public void Help_PrintsUsageToOutput_ExitCodeZero(params string[] args)
    {
        var result = Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Run, Is.False);
            Assert.That(result.ExitCode, Is.Zero);
            Assert.That(result.Output, Does.Contain("--duration").And.Contain("--kubeconfig").And.Contain("--no-ui"));
            Assert.That(result.Error, Is.Empty);
        }
    }

    [TestCase(new[] { "--pods", "x" }, "--pods 'x' must be an integer between 2 and 50.")]
    [TestCase(new[] { "--duration", "4" }, "--duration '4' must be an integer between 5 and 3600.")]
    [TestCase(new[] { "--callers", "-1" }, "--callers")]
    [TestCase(new[] { "--ejection-time", "0" }, "--ejection-time '0' must be an integer between 1 and 300.")]
    [TestCase(new[] { "--pods" }, "--pods")]
    [TestCase(new[] { "--bogus" }, "'--bogus'")]
    [TestCase(new[] { "--port", "0" }, "--port '0'")]
    [TestCase(new[] { "--port", "Not_A_Name" }, "--port 'Not_A_Name'")]
    [TestCase(new[] { "--service", " " }, "--service must not be empty.")]
    [TestCase(new[] { "--kubeconfig", "/nonexistent/kubeconfig" }, "--kubeconfig '/nonexistent/kubeconfig': no such file.")]
    public void BadValue_OneLineNamingIt_ExitCodeTwo(string[] args, string expected)
    {
        var result = Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Run, Is.False);
            Assert.That(result.ExitCode, Is.EqualTo(2));
            Assert.That(result.Error, Does.StartWith("error: ").And.Contain(expected));
            Assert.That(result.Error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line");
            Assert.That(result.Output, Is.Empty);
        }
    }

    [Test]
    public void NoArguments_RunsTheEmulatorWithDefaults()
    {
        var result = Parse([]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Run, Is.True);
            Assert.That(result.Options, Is.EqualTo(new DemoOptions()));
        }
    }

    [Test]
    public void Values_AreRead()
    {
        var result = Parse(["--duration", "12", "--pods", "5", "--callers", "2", "--ejection-time", "7", "--no-ui"]);

        Assert.That(result.Options, Is.EqualTo(new DemoOptions { Duration = TimeSpan.FromSeconds(12), Pods = 5, Callers = 2, EjectionTime = TimeSpan.FromSeconds(7), NoUi = true }));
    }

    [TestCase("--service", "greeter")]
    [TestCase("--namespace", "demo")]
    [TestCase("--port", "50051")]
    public void ClusterOption_EvenAtItsDefault_SelectsTheClusterRun(string option, string value)
    {
        var result = Parse([option, value]);

        Assert.That(result.Options?.Cluster, Is.True);
    }

    [Test]
    public void OutputRedirected_WithoutNoUi_HasNoLiveUi()
    {
        var result = Parse([], outputRedirected: true);

        Assert.That(result.Options?.NoUi, Is.True);
    }

    [Test]
    public void OutputToTerminal_WithoutNoUi_HasTheLiveUi()
    {
        var result = Parse([], outputRedirected: false);

        Assert.That(result.Options?.NoUi, Is.False);
    }

    private static ParseOutcome Parse(string[] args, bool outputRedirected = false)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var run = DemoCommandLine.TryParse(args, outputRedirected, output, error, out var options, out var exitCode);
        return new ParseOutcome(run, options, exitCode, output.ToString(), error.ToString());
    }

    private sealed record ParseOutcome(bool Run, DemoOptions? Options, int ExitCode, string Output, string Error);
}
