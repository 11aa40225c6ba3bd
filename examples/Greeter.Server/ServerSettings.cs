using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Greeter.Server;

/// <summary>Server settings read from environment variables (see Program.cs for the list).</summary>
internal sealed record ServerSettings(string ListenAddress, int Port, TimeSpan ShutdownTimeout, string PodName)
{
    public const string DefaultListenAddress = "0.0.0.0";
    public const int DefaultPort = 50051;
    public const int DefaultShutdownTimeoutSeconds = 25;

    public static ServerSettings FromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);

        var listenAddress = NonEmpty(getVariable("LISTEN_ADDRESS")) ?? DefaultListenAddress;
        var port = ParseInt(getVariable("GRPC_PORT"), "GRPC_PORT", DefaultPort, 1, 65535);
        var shutdownSeconds = ParseInt(
            getVariable("SHUTDOWN_TIMEOUT_SECONDS"), "SHUTDOWN_TIMEOUT_SECONDS", DefaultShutdownTimeoutSeconds, 0, 3600);
        var podName = NonEmpty(getVariable("POD_NAME")) ?? $"{Dns.GetHostName()}:{port.ToString(CultureInfo.InvariantCulture)}";

        return new ServerSettings(listenAddress, port, TimeSpan.FromSeconds(shutdownSeconds), podName);
    }

    /// <summary>Adds the single plaintext HTTP/2-only endpoint gRPC is served on.</summary>
    public void ConfigureEndpoint(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);

        static void Http2Only(ListenOptions options) => options.Protocols = HttpProtocols.Http2;

        switch (ListenAddress)
        {
            case "*" or "::" or "[::]":
                // IPv6 any with dual-mode sockets; Kestrel falls back to 0.0.0.0 when IPv6 is unavailable.
                kestrel.ListenAnyIP(Port, Http2Only);
                break;
            case "localhost":
                kestrel.ListenLocalhost(Port, Http2Only);
                break;
            default:
                var literal = ListenAddress.StartsWith('[') && ListenAddress.EndsWith(']')
                    ? ListenAddress[1..^1]
                    : ListenAddress;
                if (!IPAddress.TryParse(literal, out var address))
                {
                    throw new InvalidOperationException(
                        $"LISTEN_ADDRESS '{ListenAddress}' is not an IP address, '[::]', '*' or 'localhost'.");
                }

                kestrel.Listen(address, Port, Http2Only);
                break;
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int ParseInt(string? value, string name, int defaultValue, int min, int max)
    {
        if (NonEmpty(value) is not { } text)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            throw new InvalidOperationException($"{name} '{text}' must be an integer between {min} and {max}.");
        }

        return parsed;
    }
}
