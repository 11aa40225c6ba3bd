// Reactive.K8sLb demo: client-side gRPC load balancing driven by Kubernetes EndpointSlices, without a cluster.
//
//   dotnet run --project examples/Demo [-- --duration 30 --pods 3 --no-ui]
//
// Starts the in-process Kubernetes API emulator (Reactive.K8sLb.Testing) and Greeter servers on 127.0.0.2, 127.0.0.3,
// ... (one port), points the client pipeline KubernetesDiscovery.Observe(config).ApplyTo(channel) at them, keeps
// several callers busy, and plays a story: scale out, rolling update, a pod not ready, an API outage, scale in.
// The summary gives calls per pod, failed calls and how fast each change reached the traffic. Exit code 0 iff no call
// failed. With --kubeconfig/--service/--namespace/--port the same pipeline runs against a real cluster instead.
using System.Diagnostics;
using System.Net;
using Demo;
using Greeter.Client;
using k8s;
using Reactive.K8sLb;
using Reactive.K8sLb.Testing;

DemoOptions options;
try
{
    options = DemoOptions.Parse(args);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}\n{DemoOptions.Usage}").ConfigureAwait(false);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    return options.Cluster
        ? await ClusterRun.RunAsync(options, stop.Token).ConfigureAwait(false)
        : await EmulatorRun.RunAsync(options, stop.Token).ConfigureAwait(false);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine("interrupted");
    return 130;
}

namespace Demo
{
    /// <summary>The emulator run: local pods, scripted story, measured reactions.</summary>
    internal static class EmulatorRun
    {
        public static async Task<int> RunAsync(DemoOptions options, CancellationToken cancellationToken)
        {
            await using var emulator = await KubernetesApiEmulator.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var servers = PodServers.Create();
            var service = emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", servers.Port));
            var tracker = new EndpointTracker();
            var load = new CallLoad();
            Story? story = null;
            var dashboard = new Dashboard(options.NoUi, () => Rows(story!, service, servers.Port, tracker, load), () => Status(story!, load));
            story = new Story(emulator, service, servers, dashboard.Log);
            story.Attach();

            await story.StartPodsAsync(options.Pods, cancellationToken).ConfigureAwait(false);

            // The client pipeline: watch the Service's EndpointSlices and keep the channel's addresses equal to the
            // ready pods. The emulator only listens on loopback; the pods are 127.0.0.x.
            var config = new DiscoveryConfig("greeter", "grpc")
            {
                Namespace = "demo",
                ClientConfiguration = emulator.ClientConfiguration,
                Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(100), maximum: TimeSpan.FromSeconds(1)),
            };
            using var channel = BalancedChannel.Create();
            using var subscription = tracker.Wrap(KubernetesDiscovery.Observe(config)).ApplyTo(channel);
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connect.CancelAfter(TimeSpan.FromSeconds(15));
                await channel.Channel.ConnectAsync(connect.Token).ConfigureAwait(false);
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

            Summary.Print(load, story, servers, end);
            return load.Failed == 0 ? 0 : 1;
        }

        private static string Status(Story story, CallLoad load) =>
            $"step: {story.Current} | calls: {load.Total} | failed: {load.Failed}";

        private static List<PodRow> Rows(Story story, EmulatedService service, int port, EndpointTracker tracker, CallLoad load)
        {
            var inChannel = tracker.Current.ToHashSet();
            var published = service.Pods.ToDictionary(p => p.Name, StringComparer.Ordinal);
            var calls = load.PerPod;
            return [.. story.Pods.OrderBy(p => IPAddress.Parse(p.Value).GetAddressBytes()[3]).Select(pod =>
            {
                var state = published.TryGetValue(pod.Key, out var p)
                    ? p.Terminating ? "terminating" : p.Ready ? "ready" : "not ready"
                    : "removed";
                return new PodRow(pod.Key, $"{pod.Value}:{port}", state, inChannel.Contains(new IPEndPoint(IPAddress.Parse(pod.Value), port)), calls.GetValueOrDefault(pod.Key));
            })];
        }
    }

    /// <summary>The real-cluster run: same pipeline, no emulator and no local servers; calls for the duration.</summary>
    internal static class ClusterRun
    {
        public static async Task<int> RunAsync(DemoOptions options, CancellationToken cancellationToken)
        {
            DiscoveryConfig config;
            try
            {
                config = new DiscoveryConfig(options.Service, ServicePort.Parse(options.Port))
                {
                    Namespace = options.Namespace,
                    ClientConfiguration = options.KubeConfig is null ? null : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeConfig),
                };
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or k8s.Exceptions.KubeConfigException or IOException)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            var tracker = new EndpointTracker();
            var load = new CallLoad();
            var dashboard = new Dashboard(
                options.NoUi,
                () =>
                {
                    var calls = load.PerPod;
                    var endpoints = tracker.Current.Select(e => new PodRow("(endpoint)", e.ToString() ?? "?", "ready", true, 0));
                    return [.. endpoints, .. calls.Select(c => new PodRow(c.Key, "(from replies)", "-", false, c.Value))];
                },
                () => $"{config} | {tracker.Status} | calls: {load.Total} | failed: {load.Failed}");
            tracker.Updated += update =>
            {
                if (update.Changes.Count > 0) dashboard.Log(string.Join(' ', update.Changes.Select(c => (c.Kind == ChangeKind.Insert ? "+" : "-") + c.Item)));
            };

            using var channel = BalancedChannel.Create();
            using var subscription = tracker.Wrap(KubernetesDiscovery.Observe(config)).ApplyTo(channel);
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connect.CancelAfter(TimeSpan.FromSeconds(30));
                try
                {
                    await channel.Channel.ConnectAsync(connect.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    await Console.Error.WriteLineAsync($"error: no ready endpoint of {config} within 30 s ({tracker.Status})").ConfigureAwait(false);
                    return 1;
                }
            }

            using var callers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            callers.CancelAfter(options.Duration);
            var loadTask = load.RunAsync(channel.CreateCallInvoker(), options.Callers, TimeSpan.FromMilliseconds(50), callers.Token);
            await dashboard.RunAsync(loadTask).ConfigureAwait(false);
            await loadTask.ConfigureAwait(false);

            Summary.PrintCalls(load);
            return load.Failed == 0 ? 0 : 1;
        }
    }
}
