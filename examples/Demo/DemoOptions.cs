using System.Globalization;

namespace Demo;

/// <summary>Command line of the demo (see Program.cs).</summary>
internal sealed record DemoOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public int Pods { get; init; } = 3;

    public bool NoUi { get; init; }

    public string? KubeConfig { get; init; }

    public string Service { get; init; } = "greeter";

    public string? Namespace { get; init; }

    public string Port { get; init; } = "grpc";

    public int Callers { get; init; } = 4;

    /// <summary>Real-cluster mode: any of --kubeconfig, --service, --namespace, --port given.</summary>
    public bool Cluster { get; init; }

    public const string Usage = """
        Usage: dotnet run --project examples/Demo [-- options]
          --duration <seconds>   length of the run; the story steps are spread over it (default 30)
          --pods <n>             initial pods in emulator mode, 2..50 (default 3)
          --callers <n>          concurrent callers (default 4)
          --no-ui                plain log lines instead of the live table
          Real cluster (no emulator, no local servers):
          --kubeconfig <path>    kubeconfig file (default: in-cluster, $KUBECONFIG or ~/.kube/config)
          --service <name>       Service name (default greeter)
          --namespace <ns>       namespace (default: the kubeconfig context's)
          --port <port>          port number or name (default grpc)
        """;

    public static DemoOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new DemoOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value.");
            options = name switch
            {
                "--duration" => options with { Duration = TimeSpan.FromSeconds(Int(name, Value(), 5, 3600)) },
                "--pods" => options with { Pods = Int(name, Value(), 2, 50) },
                "--callers" => options with { Callers = Int(name, Value(), 1, 64) },
                "--no-ui" => options with { NoUi = true },
                "--kubeconfig" => options with { KubeConfig = Value(), Cluster = true },
                "--service" => options with { Service = Value(), Cluster = true },
                "--namespace" => options with { Namespace = Value(), Cluster = true },
                "--port" => options with { Port = Value(), Cluster = true },
                _ => throw new FormatException($"Unknown argument '{name}'."),
            };
        }

        return options;
    }

    private static int Int(string name, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new FormatException($"{name} '{text}' must be an integer between {min} and {max}.");
}
