using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Reactive.K8sLb;

namespace Greeter.Client;

/// <summary>How the client finds its channel's addresses.</summary>
internal enum ClientMode
{
    /// <summary><c>KubernetesDiscovery.Observe(config).ApplyTo(BalancedChannel.Create())</c>.</summary>
    Observe,

    /// <summary><c>GrpcChannel.ForAddress("k8s:///service.namespace:port")</c> with the Kubernetes resolver factory.</summary>
    Resolver,
}

/// <summary>Where the library's metrics and traces go (OpenTelemetry).</summary>
internal enum TelemetryExporter
{
    /// <summary>Not exported.</summary>
    None,

    /// <summary>Written to standard output when the client ends (OpenTelemetry's console exporter).</summary>
    Console,

    /// <summary>Sent to an OTLP collector; the endpoint and protocol come from OpenTelemetry's own environment
    /// variables (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, default http://localhost:4317, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>).</summary>
    Otlp,
}

/// <summary>
/// Client settings, read through Microsoft.Extensions.Configuration from environment variables and the command line
/// (which wins). Each setting is named by its environment variable (<c>SERVICE_NAME</c>, ...); on the command line it
/// is <c>--SERVICE_NAME value</c>, <c>--SERVICE_NAME=value</c> or its switch (<c>--service value</c>).
/// </summary>
internal sealed record ClientSettings(
    string ServiceName,
    string? Namespace,
    string Port,
    int RequestCount,
    TimeSpan RequestInterval,
    TimeSpan DiscoveryTimeout,
    ClientMode Mode,
    TelemetryExporter Telemetry = TelemetryExporter.None)
{
    public const string DefaultServiceName = "greeter";
    public const string DefaultPort = "grpc";
    public const int DefaultRequestCount = 20;
    public const int DefaultRequestIntervalMs = 500;
    public const int DefaultDiscoveryTimeoutSeconds = 60;

    private static readonly Setting[] Settings =
    [
        new("SERVICE_NAME", "--service", "<name>", $"the Service whose EndpointSlices are watched (default {DefaultServiceName})"),
        new("SERVICE_NAMESPACE", "--namespace", "<ns>", "its namespace (default: the pod's, else the kubeconfig context's, else default)"),
        new("GRPC_PORT", "--port", "<port>", $"the Service's port number or name (default {DefaultPort})"),
        new("REQUEST_COUNT", "--count", "<n>", $"calls to make, one after another, 1..1000000 (default {DefaultRequestCount})"),
        new("REQUEST_INTERVAL_MS", "--interval-ms", "<ms>", $"pause between calls, 0..3600000 (default {DefaultRequestIntervalMs})"),
        new("DISCOVERY_TIMEOUT_SECONDS", "--discovery-timeout", "<s>", $"wait for the first ready endpoint, 1..3600 (default {DefaultDiscoveryTimeoutSeconds})"),
        new("CLIENT_MODE", "--mode", "<mode>", "observe (default) or resolver (a k8s:/// address)"),
        new("TELEMETRY_EXPORTER", "--telemetry", "<exporter>", "none (default), console or otlp (OTEL_EXPORTER_OTLP_ENDPOINT)"),
    ];

    /// <summary>The command line's switches, mapped to the settings' keys.</summary>
    private static readonly Dictionary<string, string> Switches =
        Settings.ToDictionary(s => s.Switch, s => s.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>What <c>--help</c> prints.</summary>
    public static string Usage { get; } = BuildUsage();

    /// <summary>Whether the command line asks for help (<c>--help</c>, <c>-h</c> or <c>-?</c>).</summary>
    public static bool IsHelpRequest(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Any(a => a is "--help" or "-h" or "-?");
    }

    /// <summary>Reads the settings from the environment variables and <paramref name="args"/>.</summary>
    /// <exception cref="FormatException">An unknown argument, a missing value or an invalid setting; the message is
    /// one line naming the setting.</exception>
    public static ClientSettings Load(IReadOnlyList<string> args) => Load(args, new ConfigurationBuilder().AddEnvironmentVariables());

    // Internal for testing: the environment-variable source can be replaced.
    internal static ClientSettings Load(IReadOnlyList<string> args, IConfigurationBuilder environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        CheckCommandLine(args);
        return From(environment.AddCommandLine([.. args], Switches).Build());
    }

    /// <summary>Reads and validates the settings from a configuration.</summary>
    /// <exception cref="FormatException">An invalid setting; the message is one line naming it.</exception>
    public static ClientSettings From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var modeText = Text(configuration, "CLIENT_MODE") ?? "observe";
        var mode = modeText.ToLowerInvariant() switch
        {
            "observe" => ClientMode.Observe,
            "resolver" or "k8s" => ClientMode.Resolver,
            _ => throw new FormatException($"{Name("CLIENT_MODE")} '{modeText}' must be 'observe' or 'resolver'."),
        };

        var exporterText = Text(configuration, "TELEMETRY_EXPORTER") ?? "none";
        var exporter = exporterText.ToLowerInvariant() switch
        {
            "none" => TelemetryExporter.None,
            "console" => TelemetryExporter.Console,
            "otlp" => TelemetryExporter.Otlp,
            _ => throw new FormatException($"{Name("TELEMETRY_EXPORTER")} '{exporterText}' must be 'none', 'console' or 'otlp'."),
        };

        var service = Text(configuration, "SERVICE_NAME") ?? DefaultServiceName;
        var ns = Text(configuration, "SERVICE_NAMESPACE");
        var port = Text(configuration, "GRPC_PORT") ?? DefaultPort;
        try
        {
            _ = ServicePort.Parse(port);
        }
        catch (FormatException ex)
        {
            // Parse says "'<value>' is not a valid port: <rule>."; keep the rule, name the setting.
            var rule = ex.Message[(ex.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];
            throw new FormatException($"{Name("GRPC_PORT")} '{port}': {rule}", ex);
        }

        var count = Int(configuration, "REQUEST_COUNT", DefaultRequestCount, 1, 1_000_000);
        var interval = Int(configuration, "REQUEST_INTERVAL_MS", DefaultRequestIntervalMs, 0, 3_600_000);
        var timeout = Int(configuration, "DISCOVERY_TIMEOUT_SECONDS", DefaultDiscoveryTimeoutSeconds, 1, 3600);

        return new ClientSettings(service, ns, port, count, TimeSpan.FromMilliseconds(interval), TimeSpan.FromSeconds(timeout), mode, exporter);
    }

    /// <summary>An exception message without ArgumentException's "(Parameter '...')" suffix, on one line.</summary>
    public static string WithoutParameter(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var end = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).ReplaceLineEndings(" ");
    }

    /// <summary>
    /// The configuration's command-line provider ignores what it cannot read (a stray word, an unknown short switch, a
    /// switch without a value); a person who typed it wants to hear about it.
    /// </summary>
    private static void CheckCommandLine(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            var known = Switches.ContainsKey(name)
                || (name.StartsWith("--", StringComparison.Ordinal) && Settings.Any(s => string.Equals(s.Key, name[2..], StringComparison.OrdinalIgnoreCase)));
            if (!known) throw new FormatException($"unknown argument '{arg}' (see --help).");
            if (equals < 0 && ++i >= args.Count) throw new FormatException($"{name} needs a value.");
        }
    }

    private static string? Text(IConfiguration configuration, string key) =>
        string.IsNullOrWhiteSpace(configuration[key]) ? null : configuration[key]!.Trim();

    private static int Int(IConfiguration configuration, string key, int defaultValue, int min, int max)
    {
        if (Text(configuration, key) is not { } text) return defaultValue;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{Name(key)} '{text}' must be an integer between {min} and {max}."));
        }

        return parsed;
    }

    /// <summary>A setting's name for messages: the variable and its switch.</summary>
    private static string Name(string key) => $"{key} ({Settings.Single(s => s.Key == key).Switch})";

    private static string BuildUsage()
    {
        var text = new StringBuilder()
            .AppendLine("Usage: Greeter.Client [options]")
            .AppendLine()
            .AppendLine("Calls the Greeter Service's pods through one client-side balanced gRPC channel and checks that")
            .AppendLine("more than one pod answered. Each setting is an environment variable or a command-line option")
            .AppendLine("(which wins): --NAME value, --NAME=value, or the switch shown.")
            .AppendLine();
        foreach (var setting in Settings)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {setting.Key,-26} {setting.Switch + " " + setting.ValueName,-27} {setting.Description}");
        }

        return text
            .AppendLine(CultureInfo.InvariantCulture, $"  {"-h, --help",-26} {string.Empty,-27} this text")
            .AppendLine()
            .AppendLine("Outside a cluster the kubeconfig is $KUBECONFIG or ~/.kube/config; in a pod, its service account.")
            .AppendLine("Exit codes: 0 LOAD_BALANCING_VERIFIED; 1 verification failed (no endpoint, no call succeeded, or one")
            .AppendLine("pod served everything although 2+ were discovered); 2 bad settings.")
            .ToString();
    }

    private sealed record Setting(string Key, string Switch, string ValueName, string Description);
}
