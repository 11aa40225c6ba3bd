using System.Diagnostics;
using System.Net;
using Greeter.Client;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Reactive.K8sLb;
using Reactive.K8sLb.Testing;

namespace Demo;

/// <summary>What an emulator run ended with: its exit code and the failing pod's step, when it was played.</summary>
internal sealed record EmulatorRunResult(int ExitCode, EjectionReport? Ejection);

/// <summary>The emulator run: local pods, scripted story, measured reactions.</summary>
internal static class EmulatorRun
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(DemoOptions options, CancellationToken cancellationToken) =>
        (await RunMeasuredAsync(options, cancellationToken).ConfigureAwait(false)).ExitCode;

    public static async Task<EmulatorRunResult> RunMeasuredAsync(DemoOptions options, CancellationToken cancellationToken)
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var servers = PodServers.Create();
        var service = emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", servers.Port));
        var tracker = new EndpointTracker();
        var load = new CallLoad();
        using var metrics = new DemoMetrics("greeter");
        Story? story = null;
        var dashboard = new Dashboard(options.NoUi, tracker, () => Rows(story!, service, servers.Port, tracker, load, metrics, options.Zone), () => Status(story!, load), metrics);
        story = new Story(emulator, service, servers, metrics, options.EjectionTime, dashboard.Log);
        story.Attach();

        await story.StartPodsAsync(options.Pods, cancellationToken).ConfigureAwait(false);

        // The client pipeline: watch the Service's EndpointSlices and keep the channel's addresses equal to the
        // ready pods. The emulator only listens on loopback; the pods are 127.0.0.x. The tracker rides on the same
        // subscription (one watch) and gives the dashboard the endpoint set and the discovery status.
        var config = new DiscoveryConfig("greeter", "grpc")
        {
            Namespace = "demo",
            ClientConfiguration = emulator.ClientConfiguration,
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(100), maximum: TimeSpan.FromSeconds(1)),
        };
        // Outlier ejection with the library's defaults, but a shorter ejection time, so that the failing pod's
        // readmission comes within the run.
        var outlierDetection = new OutlierDetectionOptions { BaseEjectionTime = options.EjectionTime };
        // Topology: the emulated client runs in --zone; the pods carry zones, so the table shows which are local.
        var policy = DemoPolicies.Create(options.Policy);
        policy.OutlierDetection = outlierDetection;
        policy.Topology = new TopologyOptions { Mode = options.Topology, Zone = options.Zone };
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { policy } } });
        using var subscription = tracker.Wrap(KubernetesDiscovery.Observe(config)).ApplyTo(channel);
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connect.CancelAfter(ConnectTimeout);
            try
            {
                await channel.Channel.ConnectAsync(connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync(
                    $"error: the channel did not connect to the emulated pods within {ConnectTimeout.TotalSeconds} s (discovery: {tracker.Status})").ConfigureAwait(false);
                return new EmulatorRunResult(1, null);
            }
        }

        dashboard.Log($"client: channel ready with {tracker.Current.Count} endpoints; {options.Callers} callers start");
        using var callers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loadTask = load.RunAsync(channel.CreateCallInvoker(), options.Callers, TimeSpan.FromMilliseconds(20), callers.Token);
        var storyTask = story.RunAsync(options.Duration, cancellationToken);
        await dashboard.RunAsync(storyTask).ConfigureAwait(false);
        await storyTask.ConfigureAwait(false);

        await callers.CancelAsync().ConfigureAwait(false);
        await loadTask.ConfigureAwait(false);
        var end = Stopwatch.GetTimestamp();
        story.Detach();

        var ejection = story.Fault is { } fault
            ? EjectionReport.Measure(fault, load, metrics, servers.Port, outlierDetection.ConsecutiveFailures, options.Callers, options.EjectionTime, end)
            : null;
        Summary.Print(load, story, servers, end, metrics, ejection);
        return new EmulatorRunResult(Summary.Succeeded(load, ejection) ? 0 : 1, ejection);
    }

    private static string Status(Story story, CallLoad load) =>
        $"step: {story.Current} | calls: {load.Total} | failed: {load.Failed}";

    private static List<PodRow> Rows(Story story, EmulatedService service, int port, EndpointTracker tracker, CallLoad load, DemoMetrics metrics, string clientZone)
    {
        var inChannel = tracker.Current.ToHashSet();
        var published = service.Pods.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var calls = load.PerPod;
        return [.. story.Pods.OrderBy(p => IPAddress.Parse(p.Value).GetAddressBytes()[3]).Select(pod =>
        {
            var state = published.TryGetValue(pod.Key, out var p)
                ? p.Terminating ? "terminating" : p.Ready ? "ready" : "not ready"
                : "removed";
            var zone = story.ZoneOf(pod.Key);
            var zoneText = string.Equals(zone, clientZone, StringComparison.Ordinal) ? $"{zone} (local)" : zone;
            return new PodRow(pod.Key, $"{pod.Value}:{port}", state, inChannel.Contains(new IPEndPoint(IPAddress.Parse(pod.Value), port)), calls.GetValueOrDefault(pod.Key), metrics.PicksFor(pod.Value, port), metrics.Ejection(pod.Value, port), zoneText, metrics.LoadOf(pod.Value, port));
        })];
    }
}
