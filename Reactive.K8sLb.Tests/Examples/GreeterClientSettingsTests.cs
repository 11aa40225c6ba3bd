extern alias greeterclient;

using greeterclient::Greeter.Client;
using Microsoft.Extensions.Configuration;

namespace Reactive.K8sLb.Tests.Examples;

/// <summary>
/// Greeter.Client's settings through Microsoft.Extensions.Configuration: the deploy/ manifests' environment variables
/// still work, the command line wins, and a bad value or argument is one line naming it.
/// </summary>
public sealed class GreeterClientSettingsTests
{
    [Test]
    public void NothingSet_Defaults()
    {
        var settings = Load([]);

        Assert.That(settings, Is.EqualTo(new ClientSettings("greeter", null, "grpc", 20, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60), ClientMode.Observe)));
    }

    [Test]
    public void EnvironmentVariables_AsInTheClientJob_AreRead()
    {
        var settings = Load([], new()
        {
            ["SERVICE_NAME"] = "greeter",
            ["SERVICE_NAMESPACE"] = "greeter-demo",
            ["GRPC_PORT"] = "grpc",
            ["REQUEST_COUNT"] = "30",
            ["REQUEST_INTERVAL_MS"] = "100",
            ["DISCOVERY_TIMEOUT_SECONDS"] = "5",
            ["CLIENT_MODE"] = "resolver",
        });

        Assert.That(settings, Is.EqualTo(new ClientSettings("greeter", "greeter-demo", "grpc", 30, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), ClientMode.Resolver)));
    }

    [TestCase("--mode", "resolver")]
    [TestCase("--mode=resolver")]
    [TestCase("--CLIENT_MODE", "resolver")]
    [TestCase("--client_mode=k8s")]
    public void CommandLine_WinsOverTheEnvironment(params string[] args)
    {
        var settings = Load(args, new() { ["CLIENT_MODE"] = "observe" });

        Assert.That(settings.Mode, Is.EqualTo(ClientMode.Resolver));
    }

    [Test]
    public void Switches_SetEverySetting()
    {
        var settings = Load(["--service", "api", "--namespace", "ns", "--port", "50051", "--count", "3", "--interval-ms", "0", "--discovery-timeout", "9"]);

        Assert.That(settings, Is.EqualTo(new ClientSettings("api", "ns", "50051", 3, TimeSpan.Zero, TimeSpan.FromSeconds(9), ClientMode.Observe)));
    }

    [TestCase("REQUEST_COUNT", "0", "REQUEST_COUNT (--count) '0' must be an integer between 1 and 1000000.")]
    [TestCase("REQUEST_INTERVAL_MS", "fast", "REQUEST_INTERVAL_MS (--interval-ms) 'fast' must be an integer between 0 and 3600000.")]
    [TestCase("DISCOVERY_TIMEOUT_SECONDS", "-1", "DISCOVERY_TIMEOUT_SECONDS (--discovery-timeout) '-1' must be an integer between 1 and 3600.")]
    [TestCase("CLIENT_MODE", "dns", "CLIENT_MODE (--mode) 'dns' must be 'observe' or 'resolver'.")]
    [TestCase("TELEMETRY_EXPORTER", "zipkin", "TELEMETRY_EXPORTER (--telemetry) 'zipkin' must be 'none', 'console' or 'otlp'.")]
    [TestCase("GRPC_PORT", "70000", "GRPC_PORT (--port) '70000': a port number must be between 1 and 65535.")]
    public void BadEnvironmentValue_OneLineNamingIt(string variable, string value, string message)
    {
        var error = Assert.Throws<FormatException>(() => Load([], new() { [variable] = value }));

        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [TestCase(new[] { "--telemetry", "console" }, "", "Console")]
    [TestCase(new[] { "--TELEMETRY_EXPORTER=OTLP" }, "", "Otlp")]
    [TestCase(new string[0], "otlp", "Otlp")]
    [TestCase(new string[0], "", "None")]
    public void TelemetryExporter_FromEnvironmentOrCommandLine(string[] args, string environment, string expected)
    {
        var settings = Load(args, new() { ["TELEMETRY_EXPORTER"] = environment });

        Assert.That(settings.Telemetry.ToString(), Is.EqualTo(expected));
    }

    [TestCase(new[] { "--bogus", "1" }, "unknown argument '--bogus' (see --help).")]
    [TestCase(new[] { "stray" }, "unknown argument 'stray' (see --help).")]
    [TestCase(new[] { "-m", "observe" }, "unknown argument '-m' (see --help).")]
    [TestCase(new[] { "--count" }, "--count needs a value.")]
    public void BadArgument_OneLineNamingIt(string[] args, string message)
    {
        var error = Assert.Throws<FormatException>(() => Load(args));

        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [TestCase("--help")]
    [TestCase("-h")]
    public void Help_IsRecognised(string arg)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ClientSettings.IsHelpRequest(["--mode", "observe", arg]), Is.True);
            Assert.That(ClientSettings.Usage, Does.Contain("SERVICE_NAME").And.Contain("--mode"));
        }
    }

    private static ClientSettings Load(string[] args, Dictionary<string, string?>? environment = null) =>
        ClientSettings.Load(args, new ConfigurationBuilder().AddInMemoryCollection(environment ?? []));
}
