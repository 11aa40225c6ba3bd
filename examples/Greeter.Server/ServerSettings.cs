using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Greeter.Server;

/// <summary>
/// Server settings, read through the host's configuration: environment variables and the command line (which wins), as
/// <c>--GRPC_PORT 50051</c>, <c>--GRPC_PORT=50051</c> or a switch (<c>--port 50051</c>).
/// </summary>
internal sealed record ServerSettings(string ListenAddress, int Port, TimeSpan ShutdownTimeout, string PodName)
{
    public const string DefaultListenAddress = "0.0.0.0";
    public const int DefaultPort = 50051;
    public const int DefaultShutdownTimeoutSeconds = 25;

    /// <summary>The command line's switches, mapped to the settings' keys (their environment variable names).</summary>
    public static IReadOnlyDictionary<string, string> Switches { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--listen-address"] = "LISTEN_ADDRESS",
        ["--port"] = "GRPC_PORT",
        ["--pod-name"] = "POD_NAME",
        ["--shutdown-timeout"] = "SHUTDOWN_TIMEOUT_SECONDS",
    };

    /// <summary>What <c>--help</c> prints.</summary>
    public const string Usage = """
        Usage: Greeter.Server [options]

        A plaintext HTTP/2 (h2c) gRPC Greeter server that names its pod in every reply. Each setting is an environment
        variable or a command-line option (which wins): --NAME value, --NAME=value, or the switch shown.

          LISTEN_ADDRESS            --listen-address <ip>    0.0.0.0 (default), [::] / :: / * (all interfaces, dual-stack),
                                                             localhost, or a literal IPv4/IPv6 address
          GRPC_PORT                 --port <n>               1..65535 (default 50051)
          POD_NAME                  --pod-name <name>        reported in every reply (default {host}:{port})
          SHUTDOWN_TIMEOUT_SECONDS  --shutdown-timeout <s>   how long SIGTERM waits for in-flight calls, 0..3600 (default 25)
          -h, --help                                         this text

        The host's own settings work too (e.g. --Logging:LogLevel:Default Debug).
        Exit codes: 0 stopped; 2 bad settings (one line on standard error).
        """;

    /// <summary>Whether the command line asks for help (<c>--help</c>, <c>-h</c> or <c>-?</c>).</summary>
    public static bool IsHelpRequest(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Any(a => a is "--help" or "-h" or "-?");
    }

    /// <summary>Reads and validates the settings.</summary>
    /// <exception cref="FormatException">An invalid setting; the message is one line naming it.</exception>
    public static ServerSettings From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var listenAddress = Text(configuration, "LISTEN_ADDRESS") ?? DefaultListenAddress;
        if (listenAddress is not ("*" or "::" or "[::]" or "localhost") && !IPAddress.TryParse(Unbracketed(listenAddress), out _))
        {
            throw new FormatException($"{Name("LISTEN_ADDRESS")} '{listenAddress}' is not an IP address, '[::]', '*' or 'localhost'.");
        }

        var port = Int(configuration, "GRPC_PORT", DefaultPort, 1, 65535);
        var shutdownSeconds = Int(configuration, "SHUTDOWN_TIMEOUT_SECONDS", DefaultShutdownTimeoutSeconds, 0, 3600);
        var podName = Text(configuration, "POD_NAME") ?? $"{Dns.GetHostName()}:{port.ToString(CultureInfo.InvariantCulture)}";

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
                // Validated by From.
                kestrel.Listen(IPAddress.Parse(Unbracketed(ListenAddress)), Port, Http2Only);
                break;
        }
    }

    private static string Unbracketed(string address) =>
        address.StartsWith('[') && address.EndsWith(']') ? address[1..^1] : address;

    private static string? Text(IConfiguration configuration, string key) =>
        string.IsNullOrWhiteSpace(configuration[key]) ? null : configuration[key]!.Trim();

    private static int Int(IConfiguration configuration, string key, int defaultValue, int min, int max)
    {
        if (Text(configuration, key) is not { } text)
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{Name(key)} '{text}' must be an integer between {min} and {max}."));
        }

        return parsed;
    }

    /// <summary>A setting's name for messages: the variable and its switch.</summary>
    private static string Name(string key) => $"{key} ({Switches.Single(s => s.Value == key).Key})";
}
