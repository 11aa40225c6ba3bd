using System.Diagnostics;
using System.Globalization;
using System.Text;
using k8s;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// What a fleet of independent clients costs the API server, measured from the emulator's request log and its response
/// body byte count, with streaming lists on and off side by side: startup, steady state (watches that end and resume),
/// an API server restart that keeps its history, and one that loses it (every resumed watch gets 410 Gone). Each client
/// is its own Kubernetes client and subscription, named by its User-Agent, as separate pods would be.
/// </summary>
internal static class FleetHarness
{
    private const string Ns = "fleet";
    private const string Service = "fleet";
    private const int Pods = 50;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<string> RunAsync(int clients, TimeSpan steadyRun)
    {
        var text = new StringBuilder();
        var rows = new List<(bool Streaming, Scenario Startup, Scenario? Steady, Scenario? Restart, Scenario? Lost)>();
        foreach (var streaming in new[] { false, true })
        {
            // Steady state with short watches (one fleet); the restarts with the default WatchTimeout (another fleet),
            // so that no watch happens to be ending on its own when the server goes away.
            var shortWatches = await MeasureAsync(clients, streaming, steadyRun, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var defaults = await MeasureAsync(clients, streaming, null, new DiscoveryConfig(Service, "grpc").WatchTimeout).ConfigureAwait(false);
            rows.Add((streaming, defaults.Item2, shortWatches.Item3, defaults.Item4, defaults.Item5));
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"{clients} independent clients, one Service of {Pods} pods (one EndpointSlice); per client:")
            .AppendLine()
            .AppendLine("| scenario | streaming lists | LISTs | streaming lists | other WATCHes | body bytes | timing (restarts: first request after the break, min / p50 / max) | busiest 100 ms |")
            .AppendLine("|---|:---:|---:|---:|---:|---:|---|---:|");
        // kube-apiserver sends the initial-events-end bookmark on its bookmark tick (about 1 s): the startup price.
        var ticked = await MeasureAsync(clients, streaming: true, steadyRun, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        foreach (var (name, pick) in new (string, Func<(bool, Scenario, Scenario?, Scenario?, Scenario?), Scenario?>)[]
        {
            ("startup", r => r.Item2),
            ($"steady state, {steadyRun.TotalSeconds:0} s at WatchTimeout = 1 s, a bookmark per second", r => r.Item3),
            ("API restart, history kept", r => r.Item4),
            ("API history lost (every watch 410)", r => r.Item5),
        })
        {
            foreach (var row in rows)
            {
                var s = pick(row)!;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {name} | {(row.Streaming ? "on" : "off")} | {s.Lists / (double)clients:0.##} | {s.Streaming / (double)clients:0.##} | {s.Watches / (double)clients:0.##} | {s.Bytes / (double)clients:0} | {s.SpreadText} | {s.Busiest} |");
            }

            if (name == "startup")
            {
                var s = ticked.Item2;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| startup, end bookmark on a 1 s tick (as kube-apiserver) | on | {s.Lists / (double)clients:0.##} | {s.Streaming / (double)clients:0.##} | {s.Watches / (double)clients:0.##} | {s.Bytes / (double)clients:0} | {s.SpreadText} | {s.Busiest} |");
            }
        }

        var steady = rows[1].Steady!;
        var watchSeconds = steadyRun.TotalSeconds * clients / Math.Max(1, steady.Watches);
        text.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Steady state: a watch lasted {watchSeconds:0.00} s on average at WatchTimeout = 1 s (the library asks for a random 1-2× WatchTimeout),")
            .AppendLine(CultureInfo.InvariantCulture, $"{steady.BookmarkLines} bookmark lines carried {steady.Bytes} body bytes ({steady.Bytes / Math.Max(1.0, steady.BookmarkLines):0} per line; nothing else was sent), no LIST.");
        return text.ToString();
    }

    /// <summary>Startup, then either the steady state (<paramref name="steadyRun"/>) or the two restarts.</summary>
    private static async Task<(bool, Scenario, Scenario?, Scenario?, Scenario?)> MeasureAsync(int count, bool streaming, TimeSpan? steadyRun, TimeSpan watchTimeout, TimeSpan endDelay = default)
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions
        {
            BookmarkInterval = TimeSpan.FromSeconds(1),
            InitialEventsEndDelay = endDelay,
        }).ConfigureAwait(false);
        var service = emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080));
        service.ScaleTo(Pods, i => $"10.3.{i / 200}.{i % 200 + 1}");
        var bookmarkLines = 0;
        emulator.EventWritten += e =>
        {
            if (e.EventType == WatchEventType.Bookmark) Interlocked.Increment(ref bookmarkLines);
        };
        var clients = Enumerable.Range(0, count)
            .Select(i => new Kubernetes(emulator.ClientConfiguration, new UserAgentHandler($"client-{i}")))
            .ToList();
        var synchronized = new long[count];
        var start = Stopwatch.GetTimestamp();
        var bytes = emulator.ResponseBodyBytes;
        var subscriptions = clients.Select((client, i) =>
        {
            var config = new DiscoveryConfig(Service, "grpc")
            {
                Namespace = Ns,
                StreamingLists = streaming,
                WatchTimeout = watchTimeout,
                Debounce = TimeSpan.Zero,
            };
            return KubernetesDiscovery.Observe(config, client).Updates.Subscribe(update =>
            {
                if (update.Status.IsSynchronized && Volatile.Read(ref synchronized[i]) == 0) Volatile.Write(ref synchronized[i], Stopwatch.GetTimestamp());
            });
        }).ToList();
        try
        {
            await UntilAsync(() => synchronized.All(s => Volatile.Read(ref s) != 0), "all clients synchronized").ConfigureAwait(false);
            await emulator.WaitForOpenWatchesAsync(count, Timeout).ConfigureAwait(false);
            var startup = Scenario.Of(emulator, start, bytes, spread: false);
            var toSnapshot = synchronized.Select(t => Stopwatch.GetElapsedTime(start, t).TotalMilliseconds).Order().ToList();
            startup = startup with { SpreadText = $"first snapshot {toSnapshot[count / 2]:0} / {toSnapshot[^1]:0} ms (p50 / max)" };

            if (steadyRun is { } run)
            {
                start = Stopwatch.GetTimestamp();
                bytes = emulator.ResponseBodyBytes;
                var bookmarksBefore = Volatile.Read(ref bookmarkLines);
                await Task.Delay(run).ConfigureAwait(false);
                var steady = Scenario.Of(emulator, start, bytes, spread: false);
                return (streaming, startup, steady with { BookmarkLines = Volatile.Read(ref bookmarkLines) - bookmarksBefore }, null, null);
            }

            start = Stopwatch.GetTimestamp();
            bytes = emulator.ResponseBodyBytes;
            await emulator.RestartAsync().ConfigureAwait(false);
            var down = Stopwatch.GetElapsedTime(start);
            await emulator.WaitForOpenWatchesAsync(count, Timeout).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false); // stragglers
            var restart = Scenario.Of(emulator, start, bytes, spread: true);
            restart = restart with { SpreadText = $"{restart.SpreadText} (server down {down.TotalMilliseconds:0} ms)" };

            // A restart that loses history: every client's resourceVersion is too old afterwards (410).
            start = Stopwatch.GetTimestamp();
            bytes = emulator.ResponseBodyBytes;
            await emulator.RestartAsync(loseHistory: true).ConfigureAwait(false);

            await emulator.WaitForOpenWatchesAsync(count, Timeout).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            var lost = Scenario.Of(emulator, start, bytes, spread: true);
            return (streaming, startup, null, restart, lost);
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
            clients.ForEach(c => c.Dispose());
        }
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > Timeout) throw new TimeoutException(what);
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    /// <summary>The fleet's requests and response bytes since a moment.</summary>
    private sealed record Scenario(int Lists, int Streaming, int Watches, long Bytes, int BookmarkLines, string SpreadText, int Busiest)
    {
        public static Scenario Of(KubernetesApiEmulator emulator, long since, long bytesBefore, bool spread)
        {
            var requests = emulator.Requests.Where(r => r.Timestamp >= since && r.UserAgent is not null).ToList();
            var statistics = RequestLogStatistics.FirstRequestsAfter(requests, since, r => r.UserAgent);
            var watches = requests.Count(r => r.Kind == RequestKind.Watch && !r.IsStreamingList);
            return new Scenario(
                requests.Count(r => r.Kind == RequestKind.List),
                requests.Count(r => r.IsStreamingList),
                watches,
                emulator.ResponseBodyBytes - bytesBefore,
                0,
                spread ? $"{statistics.Earliest.TotalMilliseconds:0} / {statistics.Median.TotalMilliseconds:0} / {statistics.Latest.TotalMilliseconds:0} ms" : "",
                spread ? statistics.BusiestWindowCount : 0);
        }
    }

    /// <summary>Names the client in every request, so the request log can tell the fleet apart.</summary>
    private sealed class UserAgentHandler(string name) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.UserAgent.Clear();
            request.Headers.TryAddWithoutValidation("User-Agent", name);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
