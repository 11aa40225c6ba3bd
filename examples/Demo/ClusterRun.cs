using Greeter.Client;
using k8s;
using k8s.Exceptions;
using Reactive.K8sLb;
using YamlDotNet.Core;

namespace Demo;

/// <summary>
/// The real-cluster run: same pipeline, no emulator and no local servers; calls for the duration. It says within
/// seconds when it cannot work: no kubeconfig (exit 2), an API server that refuses or fails the watch (the first
/// failing discovery status, exit 1), no synchronisation within <see cref="DemoOptions.SyncTimeout"/>, a Service
/// without ready endpoints, or endpoints this machine cannot connect to (exit 1).
/// </summary>
internal static class ClusterRun
{
    public static async Task<int> RunAsync(DemoOptions options, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(error);

        DiscoveryConfig config;
        try
        {
            var client = LoadClientConfiguration(options.KubeConfig);
            config = new DiscoveryConfig(options.Service, ServicePort.Parse(options.Port))
            {
                Namespace = options.Namespace ?? client.Namespace ?? "default",
                ClientConfiguration = client,
            };
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KubeConfigException or IOException or UnauthorizedAccessException or YamlException)
        {
            var where = ex is YamlException && options.KubeConfig is not null ? $"kubeconfig '{options.KubeConfig}': " : string.Empty;
            await error.WriteLineAsync($"error: {where}{OneLine(ex.Message)}").ConfigureAwait(false);
            return DemoCommandLine.UsageError;
        }

        var api = config.ClientConfiguration!.Host;
        var tracker = new EndpointTracker();
        var load = new CallLoad();
        using var metrics = new DemoMetrics(config.ServiceName);
        var dashboard = new Dashboard(
            options.NoUi,
            tracker,
            () =>
            {
                var calls = load.PerPod;
                var endpoints = tracker.Current.Select(e => new PodRow(
                    "(endpoint)",
                    e.ToString() ?? "?",
                    "ready",
                    true,
                    0,
                    e is System.Net.IPEndPoint ip ? metrics.PicksFor(ip.Address.ToString(), ip.Port) : 0,
                    e is System.Net.IPEndPoint peer ? metrics.Ejection(peer.Address.ToString(), peer.Port) : "-"));
                return [.. endpoints, .. calls.Select(c => new PodRow(c.Key, "(from replies)", "-", false, c.Value))];
            },
            () => $"{config} at {api} | calls: {load.Total} | failed: {load.Failed}",
            metrics);
        tracker.Updated += update =>
        {
            if (update.Changes.Count > 0) dashboard.Log(string.Join(' ', update.Changes.Select(c => (c.Kind == ChangeKind.Insert ? "+" : "-") + c.Item)));
        };

        using var channel = BalancedChannel.Create();
        using var subscription = tracker.Wrap(KubernetesDiscovery.Observe(config)).ApplyTo(channel);

        // The first status that decides: synchronized, or failing (unreachable API, 401/403/404, ...). Before it the
        // library keeps retrying with backoff, which is right for a service and wrong for someone at a terminal.
        var settled = await Task.WhenAny(tracker.Settled, Task.Delay(options.SyncTimeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (settled != tracker.Settled)
        {
            await error.WriteLineAsync(
                $"error: discovery of {config} at {api} has not synchronized within {options.SyncTimeout.TotalSeconds} s ({tracker.Status})").ConfigureAwait(false);
            return 1;
        }

        var status = await tracker.Settled.ConfigureAwait(false);
        if (!status.IsSynchronized)
        {
            await error.WriteLineAsync($"error: cannot watch the EndpointSlices of {config} at {api}: {OneLine(status.Message ?? status.ToString())}").ConfigureAwait(false);
            return 1;
        }

        if (tracker.Current.Count == 0)
        {
            await error.WriteLineAsync($"error: nothing to call in {config}: {OneLine(status.Message ?? "no ready endpoints")}").ConfigureAwait(false);
            return 1;
        }

        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connect.CancelAfter(options.SyncTimeout);
            try
            {
                await channel.Channel.ConnectAsync(connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync(
                    $"error: none of the {tracker.Current.Count} endpoints of {config} ({string.Join(", ", tracker.Current)}) accepted a connection within {options.SyncTimeout.TotalSeconds} s; pod IPs must be reachable from this machine").ConfigureAwait(false);
                return 1;
            }
        }

        // The story's failing pod needs a fault switch inside the pod; a real Greeter.Server has none (and flipping one
        // in a pod from here would need exec rights), so that step is emulator-only. Ejection itself is on: a pod
        // whose calls fail is shown as ejected in the table.
        dashboard.Log("cluster mode: no scripted story, so no failing pod (the demo cannot make a real pod fail; try the emulator mode); ejections of pods that do fail are shown in the table");
        using var callers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        callers.CancelAfter(options.Duration);
        var loadTask = load.RunAsync(channel.CreateCallInvoker(), options.Callers, TimeSpan.FromMilliseconds(50), callers.Token);
        await dashboard.RunAsync(loadTask).ConfigureAwait(false);
        await loadTask.ConfigureAwait(false);

        Summary.PrintCalls(load);
        metrics.PrintSummary(Console.Out);
        return load.Failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// The kubeconfig given with --kubeconfig; else what the library would use (in a pod the service account, else
    /// <c>$KUBECONFIG</c> or <c>~/.kube/config</c>), except that having none is an error here, not a silent
    /// <c>http://localhost:8080</c>.
    /// </summary>
    private static KubernetesClientConfiguration LoadClientConfiguration(string? path)
    {
        if (path is not null) return KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
        if (KubernetesClientConfiguration.IsInCluster()) return KubernetesClientConfiguration.InClusterConfig();

        // KUBECONFIG is the Kubernetes client's own convention (kubectl's too), read here only to explain its absence.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBECONFIG"))
            && !File.Exists(KubernetesClientConfiguration.KubeConfigDefaultLocation))
        {
            throw new KubeConfigException(
                $"no Kubernetes configuration: not in a pod, $KUBECONFIG is not set and {KubernetesClientConfiguration.KubeConfigDefaultLocation} does not exist; give --kubeconfig <path>.");
        }

        return KubernetesClientConfiguration.BuildDefaultConfig();
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
