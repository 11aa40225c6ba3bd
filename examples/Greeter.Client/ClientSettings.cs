using System.Globalization;

namespace Greeter.Client;

/// <summary>How the client finds its channel's addresses.</summary>
internal enum ClientMode
{
    /// <summary><c>KubernetesDiscovery.Observe(config).ApplyTo(BalancedChannel.Create())</c>.</summary>
    Observe,

    /// <summary><c>GrpcChannel.ForAddress("k8s:///service.namespace:port")</c> with the Kubernetes resolver factory.</summary>
    Resolver,
}

/// <summary>Client settings read from environment variables and <c>--mode</c> (see Program.cs for the list).</summary>
internal sealed record ClientSettings(
    string ServiceName,
    string? Namespace,
    string Port,
    int RequestCount,
    TimeSpan RequestInterval,
    TimeSpan DiscoveryTimeout,
    ClientMode Mode)
{
    public const string DefaultServiceName = "greeter";
    public const string DefaultPort = "grpc";
    public const int DefaultRequestCount = 20;
    public const int DefaultRequestIntervalMs = 500;
    public const int DefaultDiscoveryTimeoutSeconds = 60;

    /// <summary>Reads the settings; throws <see cref="FormatException"/> with a readable message for any invalid value.</summary>
    public static ClientSettings Parse(IReadOnlyList<string> args, Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(getVariable);

        var modeText = NonEmpty(getVariable("CLIENT_MODE")) ?? "observe";
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--mode" && i + 1 < args.Count) modeText = args[++i];
            else if (args[i].StartsWith("--mode=", StringComparison.Ordinal)) modeText = args[i]["--mode=".Length..];
            else throw new FormatException($"Unknown argument '{args[i]}'. Usage: Greeter.Client [--mode observe|resolver]");
        }

        var mode = modeText switch
        {
            "observe" => ClientMode.Observe,
            "resolver" or "k8s" => ClientMode.Resolver,
            _ => throw new FormatException($"--mode / CLIENT_MODE '{modeText}' must be 'observe' or 'resolver'."),
        };

        var service = NonEmpty(getVariable("SERVICE_NAME")) ?? DefaultServiceName;
        var ns = NonEmpty(getVariable("SERVICE_NAMESPACE"));
        var port = NonEmpty(getVariable("GRPC_PORT")) ?? DefaultPort;
        var count = ParseInt(getVariable("REQUEST_COUNT"), "REQUEST_COUNT", DefaultRequestCount, 1, 1_000_000);
        var interval = ParseInt(getVariable("REQUEST_INTERVAL_MS"), "REQUEST_INTERVAL_MS", DefaultRequestIntervalMs, 0, 3_600_000);
        var timeout = ParseInt(getVariable("DISCOVERY_TIMEOUT_SECONDS"), "DISCOVERY_TIMEOUT_SECONDS", DefaultDiscoveryTimeoutSeconds, 1, 3600);

        return new ClientSettings(service, ns, port, count, TimeSpan.FromMilliseconds(interval), TimeSpan.FromSeconds(timeout), mode);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int ParseInt(string? value, string name, int defaultValue, int min, int max)
    {
        if (NonEmpty(value) is not { } text) return defaultValue;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            throw new FormatException($"{name} '{text}' must be an integer between {min} and {max}.");
        }

        return parsed;
    }
}
