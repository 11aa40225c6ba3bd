extern alias greeterserver;

using greeterserver::Greeter.Server;
using Microsoft.Extensions.Configuration;

namespace Reactive.K8sLb.Tests.Examples;

/// <summary>Greeter.Server's settings through the host's configuration: environment names, switches, one-line errors.</summary>
public sealed class GreeterServerSettingsTests
{
    [Test]
    public void EnvironmentVariables_AsInTheDeployment_AreRead()
    {
        var settings = From(new()
        {
            ["POD_NAME"] = "greeter-7f9c-abcde",
            ["LISTEN_ADDRESS"] = "[::]",
            ["GRPC_PORT"] = "50051",
            ["SHUTDOWN_TIMEOUT_SECONDS"] = "25",
        });

        Assert.That(settings, Is.EqualTo(new ServerSettings("[::]", 50051, TimeSpan.FromSeconds(25), "greeter-7f9c-abcde")));
    }

    [Test]
    public void Switches_WinOverTheEnvironment()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["GRPC_PORT"] = "50051", ["POD_NAME"] = "env" })
            .AddCommandLine(["--port", "6000", "--pod-name=cli", "--listen-address", "127.0.0.1", "--shutdown-timeout", "0"], new Dictionary<string, string>(ServerSettings.Switches))
            .Build();

        var settings = ServerSettings.From(configuration);

        Assert.That(settings, Is.EqualTo(new ServerSettings("127.0.0.1", 6000, TimeSpan.Zero, "cli")));
    }

    [TestCase("GRPC_PORT", "0", "GRPC_PORT (--port) '0' must be an integer between 1 and 65535.")]
    [TestCase("SHUTDOWN_TIMEOUT_SECONDS", "soon", "SHUTDOWN_TIMEOUT_SECONDS (--shutdown-timeout) 'soon' must be an integer between 0 and 3600.")]
    [TestCase("LISTEN_ADDRESS", "example.com", "LISTEN_ADDRESS (--listen-address) 'example.com' is not an IP address, '[::]', '*' or 'localhost'.")]
    public void BadValue_OneLineNamingIt(string variable, string value, string message)
    {
        var error = Assert.Throws<FormatException>(() => From(new() { [variable] = value }));

        Assert.That(error!.Message, Is.EqualTo(message));
    }

    private static ServerSettings From(Dictionary<string, string?> values) =>
        ServerSettings.From(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
}
