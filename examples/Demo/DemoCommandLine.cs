using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Reactive.K8sLb;

namespace Demo;

/// <summary>
/// The demo's command line, on System.CommandLine: <c>--help</c>/<c>-h</c>/<c>-?</c> prints usage and <c>--version</c>
/// the version (exit 0); an unknown option, a missing value or a bad value prints one line on standard error (exit 2).
/// Output redirected to a file or a pipe implies <c>--no-ui</c>.
/// </summary>
internal static class DemoCommandLine
{
    /// <summary>The exit code of a command line that cannot be run: an unknown option or a bad value.</summary>
    public const int UsageError = 2;

    private const string Description = """
        Client-side gRPC load balancing driven by Kubernetes EndpointSlices, without a cluster: an in-process API
        emulator, Greeter pods on 127.0.0.2, 127.0.0.3, ... and a scripted story (scale out, rolling update, a pod not
        ready, a pod failing every call while still ready (ejected, then readmitted), an API outage, scale in). With --kubeconfig, --service, --namespace or --port the same client pipeline
        runs against a real cluster instead.
        Exit codes: 0 no call failed (apart from the failing pod's answers, when it was ejected within the threshold,
        got no call while ejected and was readmitted); 1 calls failed, or the cluster's API or endpoints could not be reached;
        2 bad command line or kubeconfig; 130 interrupted.
        """;

    /// <summary>
    /// Parses <paramref name="args"/>. Returns <see langword="true"/> with the options to run; otherwise writes help or
    /// the version to <paramref name="output"/> (exit code 0) or one line to <paramref name="error"/> (exit code
    /// <see cref="UsageError"/>) and returns <see langword="false"/>.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="outputRedirected">Whether standard output goes to a file or a pipe (<see cref="Console.IsOutputRedirected"/>):
    /// then there is no live table.</param>
    /// <param name="output">Where help and the version go.</param>
    /// <param name="error">Where the error line goes.</param>
    /// <param name="options">The options, when the demo should run.</param>
    /// <param name="exitCode">The exit code, when it should not.</param>
    public static bool TryParse(
        IReadOnlyList<string> args,
        bool outputRedirected,
        TextWriter output,
        TextWriter error,
        [NotNullWhen(true)] out DemoOptions? options,
        out int exitCode)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var duration = Int("--duration", "seconds", "Length of the run; the story's steps are spread over it", 30, 5, 3600);
        var pods = Int("--pods", "n", "Initial pods, emulator only", 3, 2, 50);
        var callers = Int("--callers", "n", "Concurrent callers", 4, 1, 64);
        var ejectionTime = Int("--ejection-time", "seconds", "Emulator only: base ejection time of a failing pod (the library's default is 30)", 5, 1, 300);
        var zone = Text("--zone", "zone", "Emulator only: the client's zone (pods are spread over zone-a, zone-b, zone-c)", "zone-a");
        var topology = new Option<string>("--topology")
        {
            Description = "Topology routing: hints (kube-proxy's rules, the default), prefer-local or off",
            HelpName = "mode",
            DefaultValueFactory = _ => "hints",
        };
        topology.AcceptOnlyFromAmong("hints", "prefer-local", "off");
        var policy = new Option<string>("--policy")
        {
            Description = "Load-balancing policy: " + string.Join(", ", DemoPolicies.Names) + $" (default {DemoPolicies.Default}, the library's)",
            HelpName = "policy",
            DefaultValueFactory = _ => DemoPolicies.Default,
        };
        policy.AcceptOnlyFromAmong([.. DemoPolicies.Names]);
        var noUi = new Option<bool>("--no-ui") { Description = "Plain log lines instead of the live table (implied when output is redirected)" };
        var syncTimeout = Int("--sync-timeout", "seconds", "Real cluster: give up when discovery has not synchronized by then", 5, 1, 300);
        var kubeConfig = new Option<string>("--kubeconfig")
        {
            Description = "Real cluster: the kubeconfig file (default: in-cluster, $KUBECONFIG or ~/.kube/config)",
            HelpName = "path",
        };
        kubeConfig.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string>();
            if (!File.Exists(path)) result.AddError($"--kubeconfig '{path}': no such file.");
        });
        var service = Text("--service", "name", "Real cluster: the Service", "greeter");
        var @namespace = new Option<string>("--namespace")
        {
            Description = "Real cluster: the namespace (default: the kubeconfig context's, else 'default')",
            HelpName = "namespace",
        };
        var port = Text("--port", "port", "Real cluster: the Service's port number or name", "grpc");
        port.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            try
            {
                _ = ServicePort.Parse(text);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                result.AddError($"--port '{text}': {FirstSentence(ex.Message)}");
            }
        });

        var root = new RootCommand(Description) { duration, pods, callers, ejectionTime, zone, topology, policy, noUi, kubeConfig, service, @namespace, port, syncTimeout };
        var parsed = root.Parse([.. args]);

        // Help (and the version) win over errors elsewhere on the line, as in dotnet and git.
        if (parsed.Action is not null && (parsed.Errors.Count == 0 || parsed.Action is System.CommandLine.Help.HelpAction))
        {
            exitCode = parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
            options = null;
            return false;
        }

        if (parsed.Errors.Count > 0)
        {
            error.WriteLine($"error: {parsed.Errors[0].Message} (see --help)");
            exitCode = UsageError;
            options = null;
            return false;
        }

        bool Given(Option option) => parsed.GetResult(option) is { Implicit: false };
        options = new DemoOptions
        {
            Duration = TimeSpan.FromSeconds(parsed.GetValue(duration)),
            Pods = parsed.GetValue(pods),
            Callers = parsed.GetValue(callers),
            EjectionTime = TimeSpan.FromSeconds(parsed.GetValue(ejectionTime)),
            Zone = parsed.GetValue(zone)!,
            Policy = parsed.GetValue(policy)!,
            Topology = parsed.GetValue(topology) switch
            {
                "prefer-local" => TopologyMode.PreferLocal,
                "off" => TopologyMode.Off,
                _ => TopologyMode.Hints,
            },
            NoUi = parsed.GetValue(noUi) || outputRedirected,
            SyncTimeout = TimeSpan.FromSeconds(parsed.GetValue(syncTimeout)),
            KubeConfig = parsed.GetValue(kubeConfig),
            Service = parsed.GetValue(service)!,
            Namespace = parsed.GetValue(@namespace),
            Port = parsed.GetValue(port)!,
            Cluster = Given(kubeConfig) || Given(service) || Given(@namespace) || Given(port),
        };
        exitCode = 0;
        return true;
    }

    /// <summary>An integer option with a range; a value outside it (or not an integer) is one error naming both.</summary>
    private static Option<int> Int(string name, string valueName, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = string.Create(CultureInfo.InvariantCulture, $"{description} ({min}..{max})"),
        HelpName = valueName,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} '{text}' must be an integer between {min} and {max}."));
            return defaultValue;
        },
    };

    private static Option<string> Text(string name, string valueName, string description, string defaultValue)
    {
        var option = new Option<string>(name) { Description = description, HelpName = valueName, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>())) result.AddError($"{name} must not be empty.");
        });
        return option;
    }

    /// <summary>An exception message without ArgumentException's "(Parameter '...')" suffix, on one line.</summary>
    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).ReplaceLineEndings(" ");
    }
}
