using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Latency;

/// <summary>Settings of the zone-routing measurement (<c>--zones</c>).</summary>
/// <param name="Callers">Callers per client channel.</param>
/// <param name="CallPause">Each caller's pause between calls.</param>
/// <param name="Window">How long each configuration's calls are counted, once every expected pod has answered it.</param>
internal sealed record ZonesSettings(int Callers, TimeSpan CallPause, TimeSpan Window);

/// <summary>
/// <c>k8slb.endpoint.picks</c> summed per Service and <c>k8slb.locality</c> (every configuration has its own Service, so
/// its series are its own).
/// </summary>
internal sealed class LocalityPicks : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Service, string Locality), long> _picks = new();

    public LocalityPicks()
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == K8sLbTelemetry.MeterName && instrument.Name == "k8slb.endpoint.picks") l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? service = null, locality = null;
            foreach (var tag in tags)
            {
                if (tag.Key == K8sLbTelemetry.ServiceNameTag) service = tag.Value as string;
                else if (tag.Key == "k8slb.locality") locality = tag.Value as string;
            }

            _picks.AddOrUpdate((service ?? "", locality ?? "(none)"), value, (_, n) => n + value);
        });
        _listener.Start();
    }

    /// <summary>The picks of a Service so far, per locality.</summary>
    public Dictionary<string, long> Of(string service) =>
        _picks.Where(p => p.Key.Service == service).ToDictionary(p => p.Key.Locality, p => p.Value);

    public void Dispose() => _listener.Dispose();
}

/// <summary>
/// Zone- and node-aware routing (issue 14, <c>--zones</c>): nine Greeter pods on 127.0.0.2-10 placed in zone-a, zone-b and
/// zone-c by the API emulator's EndpointSlices (with the hints the EndpointSlice controller writes for
/// <c>trafficDistribution: PreferSameZone</c>), and clients in zone-a with <see cref="TopologyOptions"/> set in code. Each
/// configuration has its own Service (same pods) and its own channel, so its <c>k8slb.endpoint.picks</c> series are its
/// own; configurations of one scenario run side by side.
/// </summary>
internal sealed class ZonesHarness(KubernetesApiEmulator emulator, ZonesSettings settings, Action<string> write) : IDisposable
{
    private const string Ns = "zones";
    private static readonly TimeSpan WarmTimeout = TimeSpan.FromSeconds(30);
    private static readonly string[] Ips = [.. Enumerable.Range(2, 9).Select(i => $"127.0.0.{i}")];

    /// <summary>3 zones x 3 pods.</summary>
    private static readonly string[] ThreeByThree = ["zone-a", "zone-a", "zone-a", "zone-b", "zone-b", "zone-b", "zone-c", "zone-c", "zone-c"];

    /// <summary>1 pod in zone-a, 4 in zone-b, 4 in zone-c.</summary>
    private static readonly string[] OneFourFour = ["zone-a", "zone-b", "zone-b", "zone-b", "zone-b", "zone-c", "zone-c", "zone-c", "zone-c"];

    private readonly LocalityPicks _picks = new();
    private int _services;

    public async Task RunAsync(Func<string> loadAverage)
    {
        await using var pods = GreeterPods.Create();
        await pods.StartManyAsync(Ips);
        await pods.WarmAsync(Ips);
        write($"# Zone- and node-aware routing (issue 14): 3 zones, a client in zone-a, {settings.Callers} callers per client");
        write("");
        write($"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; runtime {Environment.Version}, {Environment.ProcessorCount} cores, Server GC off; load average (1/5/15 min) at start {loadAverage()}");
        write($"- pods: real Greeter gRPC servers on {Ips[0]}-{Ips[^1].Split('.')[^1]}, port {pods.Port}; the API emulator places them in zones (3 x 3: .2-.4 zone-a, .5-.7 zone-b, .8-.10 zone-c) and, for `trafficDistribution: PreferSameZone`, writes each ready endpoint's own zone as its hint, as the EndpointSlice controller does");
        write($"- clients: `KubernetesDiscovery.Observe(...).ApplyTo(BalancedChannel.Create(...))` with `NewestFirstRoundRobinConfig {{ Topology = new TopologyOptions {{ Zone = \"zone-a\", Mode = ... }} }}`, default discovery settings (Debounce 50 ms); {settings.Callers} callers each, a unary call then a {settings.CallPause.TotalMilliseconds:0} ms pause; every configuration has its own Service (same pods) and channel");
        write($"- counted: the calls started in a {settings.Window.TotalSeconds:0.#} s window that opens once every pod the configuration should use has answered it (pod from the reply); locality from `k8slb.endpoint.picks` by `k8slb.locality` over the same window");
        write("");

        var total = Stopwatch.StartNew();
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] 1. hints present");
        await HintsPresentAsync(pods);
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] 2. zone-a not ready");
        await ZoneNotReadyAsync(pods);
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] 3. one endpoint without hints");
        await MissingHintAsync(pods);
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] 4. 1/4/4: PreferLocal vs Hints");
        await SkewedZonesAsync(pods);
    }

    public void Dispose() => _picks.Dispose();

    private async Task HintsPresentAsync(GreeterPods pods)
    {
        var hints = await StartAsync(pods, ThreeByThree, "PreferSameZone", "Hints (the default)", new TopologyOptions { Zone = "zone-a", Mode = TopologyMode.Hints });
        var off = await StartAsync(pods, ThreeByThree, "PreferSameZone", "Off", new TopologyOptions { Zone = "zone-a", Mode = TopologyMode.Off });
        try
        {
            await MeasureAsync([(hints, InZone(ThreeByThree, "zone-a")), (off, Ips)]);
            write("## 1. Hints present (`trafficDistribution: PreferSameZone`, 3 x 3)");
            write("");
            write("| client in zone-a, mode | calls | failed | stayed in zone-a | zone-a / zone-b / zone-c | picks same_zone / other_zone / unknown |");
            write("|---|---|---|---|---|---|");
            foreach (var client in new[] { hints, off }) write(ShareRow(client, ThreeByThree));
            write("");
        }
        finally
        {
            await hints.DisposeAsync();
            await off.DisposeAsync();
        }
    }

    private async Task ZoneNotReadyAsync(GreeterPods pods)
    {
        var client = await StartAsync(pods, ThreeByThree, "PreferSameZone", "Hints", new TopologyOptions { Zone = "zone-a", Mode = TopologyMode.Hints });
        var zoneA = InZone(ThreeByThree, "zone-a");
        try
        {
            await WarmAsync(client, zoneA);
            var start = Stopwatch.GetTimestamp();
            await Task.Delay(settings.Window / 2);

            // The servers keep running: only the EndpointSlice says the zone-a pods are not ready.
            var written = new ConcurrentQueue<long>();
            void OnWritten(WatchEventWritten e) => written.Enqueue(e.Timestamp);
            emulator.EventWritten += OnWritten;
            var change = Stopwatch.GetTimestamp();
            client.Service.Batch(s => { foreach (var ip in zoneA) s.SetReady(ip, false); });
            await Task.Delay(settings.Window);
            var end = Stopwatch.GetTimestamp();
            emulator.EventWritten -= OnWritten;
            await client.StopLoadAsync();
            var eventAt = written.Where(t => t >= change).Select(t => (long?)t).Min();

            var calls = client.Load!.Calls.Where(c => c.Start >= start && c.Start <= end).ToList();
            var failed = calls.Count(c => c.Status != StatusCode.OK);
            var answeredAfter = calls.Where(c => c.Status == StatusCode.OK && c.End > change).ToList();
            var firstOther = answeredAfter.Where(c => !IsIn(zoneA, c.Pod)).Select(c => (long?)c.End).Min();
            var lastLocal = answeredAfter.Where(c => IsIn(zoneA, c.Pod)).Select(c => (long?)c.End).Max();
            var localStartedAfter = calls.Count(c => c.Start > change && IsIn(zoneA, c.Pod));
            var tail = calls.Where(c => c.Status == StatusCode.OK && c.Start > (lastLocal ?? change)).ToList();
            write("## 2. Every zone-a pod turns not ready (their servers keep running)");
            write("");
            write($"Calls started from {Stopwatch.GetElapsedTime(start, change).TotalSeconds:0.#} s before the readiness change (one EndpointSlice write, `SetReady(false)` for the three zone-a pods) to {Stopwatch.GetElapsedTime(change, end).TotalSeconds:0.#} s after it. Times are from the instant before the write; the watch event for it was flushed {Ms(change, eventAt)} after that instant.");
            write("");
            write("| client in zone-a, mode | calls | failed | change -> first call answered by a zone-b/c pod | change -> last call answered by a zone-a pod | calls to zone-a started after the change | zone-b / zone-c after the last zone-a answer |");
            write("|---|---|---|---|---|---|---|");
            write($"| {client.Name} | {calls.Count:N0} | {failed:N0}{Errors(client)} | {Ms(change, firstOther)} | {Ms(change, lastLocal)} | {localStartedAfter:N0} | {tail.Count(c => Zone(ThreeByThree, c.Pod) == "zone-b"):N0} / {tail.Count(c => Zone(ThreeByThree, c.Pod) == "zone-c"):N0} |");
            write("");
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private async Task MissingHintAsync(GreeterPods pods)
    {
        var client = await StartAsync(pods, ThreeByThree, "PreferSameZone", "Hints", new TopologyOptions { Zone = "zone-a", Mode = TopologyMode.Hints }, omitHintOf: Ips[0]);
        try
        {
            await MeasureAsync([(client, Ips)]);
            write($"## 3. One zone-a endpoint ({Ips[0]}) without hints, the other eight hinted");
            write("");
            write("kube-proxy's rule: one ready endpoint without a zone hint turns topology off for the whole Service.");
            write("");
            write("| client in zone-a, mode | calls | failed | stayed in zone-a | zone-a / zone-b / zone-c | picks same_zone / other_zone / unknown |");
            write("|---|---|---|---|---|---|");
            write(ShareRow(client, ThreeByThree));
            write("");
        }
        finally
        {
            await client.DisposeAsync();
        }
    }

    private async Task SkewedZonesAsync(GreeterPods pods)
    {
        // A client per zone and mode, so the load per pod shows what happens when clients are spread evenly over zones.
        var clients = new List<Client>();
        try
        {
            foreach (var (mode, name) in new[] { (TopologyMode.PreferLocal, "PreferLocal"), (TopologyMode.Hints, "Hints") })
            {
                foreach (var zone in new[] { "zone-a", "zone-b", "zone-c" })
                {
                    clients.Add(await StartAsync(pods, OneFourFour, "PreferSameZone", $"{name}, client in {zone}", new TopologyOptions { Zone = zone, Mode = mode }));
                }
            }

            // Zone-a's PreferLocal client spreads over every pod; every other client stays in its zone.
            await MeasureAsync([.. clients.Select(c => (c, c.Name == "PreferLocal, client in zone-a" ? Ips : InZone(OneFourFour, c.Name[^6..])))]);
            write("## 4. 1 pod in zone-a, 4 in zone-b, 4 in zone-c: PreferLocal vs Hints");
            write("");
            write($"Zone-a's pod is {Ips[0]}. Six clients side by side: one per zone for each mode, {settings.Callers} callers each. PreferLocal's default local share is one over the number of zones (1/3): zone-a holds 1/9 of the endpoints, so its client should send 1/3 of its calls to {Ips[0]} and 2/3 to the other eight.");
            write("");
            write($"| client, mode | calls | failed | to {Ips[0]} (zone-a's pod) | zone-a / zone-b / zone-c | picks same_zone / other_zone / unknown |");
            write("|---|---|---|---|---|---|");
            foreach (var client in clients)
            {
                var calls = client.Judged();
                var ok = calls.Where(c => c.Status == StatusCode.OK).ToList();
                write($"| {client.Name} | {calls.Count:N0} | {calls.Count - ok.Count:N0}{Errors(client)} | {ok.Count(c => c.Pod == Ips[0]):N0} ({Pct(ok.Count(c => c.Pod == Ips[0]), ok.Count)}) | {PerZone(ok, OneFourFour)} | {client.PicksText()} |");
            }

            write("");
            write("Load per pod with one client in each zone (calls answered in the window, all three clients of the mode):");
            write("");
            write("| mode | " + string.Join(" | ", Ips.Select((ip, i) => $"{ip.Split('.')[^1]} ({OneFourFour[i][^1..]})")) + " | max / min |");
            write("|---|" + string.Concat(Ips.Select(_ => "---|")) + "---|");
            foreach (var mode in new[] { "PreferLocal", "Hints" })
            {
                var served = Ips.Select(ip => clients.Where(c => c.Name.StartsWith(mode, StringComparison.Ordinal)).Sum(c => c.Judged().Count(x => x.Status == StatusCode.OK && x.Pod == ip))).ToArray();
                var min = served.Min();
                write($"| {mode} | " + string.Join(" | ", served.Select(s => s.ToString("N0"))) + $" | {(min == 0 ? "∞" : $"{(double)served.Max() / min:0.00}")} |");
            }

            write("");
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    /// <summary>Waits until each client has been answered by each of its pods, then counts every client over one
    /// window (side by side).</summary>
    private async Task MeasureAsync(IReadOnlyList<(Client Client, IReadOnlyList<string> Expected)> clients)
    {
        foreach (var (client, expected) in clients) await WarmAsync(client, expected);
        var before = clients.Select(c => c.Client.Picks()).ToList();
        var start = Stopwatch.GetTimestamp();
        await Task.Delay(settings.Window);
        var end = Stopwatch.GetTimestamp();
        for (var i = 0; i < clients.Count; i++)
        {
            var client = clients[i].Client;
            var after = client.Picks();
            client.WindowPicks = after.ToDictionary(p => p.Key, p => p.Value - before[i].GetValueOrDefault(p.Key));
            (client.Start, client.End) = (start, end);
        }

        foreach (var (client, _) in clients) await client.StopLoadAsync();
    }

    private static async Task WarmAsync(Client client, IReadOnlyList<string> expected)
    {
        var sw = Stopwatch.StartNew();
        while (!expected.All(client.Load!.Answered.ContainsKey))
        {
            if (sw.Elapsed > WarmTimeout) throw new InvalidOperationException($"zones: {client.Name}: not every one of {string.Join(", ", expected)} answered within {WarmTimeout.TotalSeconds:0} s");
            await Task.Delay(10);
        }
    }

    private async Task<Client> StartAsync(GreeterPods pods, string[] zones, string? trafficDistribution, string name, TopologyOptions topology, string? omitHintOf = null)
    {
        var serviceName = $"zones-{Interlocked.Increment(ref _services)}";
        var service = emulator.AddService(Ns, serviceName, new EmulatedServicePort("grpc", pods.Port));
        service.TrafficDistribution = trafficDistribution;
        service.Batch(s =>
        {
            for (var i = 0; i < Ips.Length; i++) s.AddPod(Ips[i], name: $"pod-{Ips[i].Split('.')[^1]}", zone: zones[i], node: $"node-{Ips[i].Split('.')[^1]}");
            if (omitHintOf is not null) s.OmitHints(omitHintOf);
        });
        var channel = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig { Topology = topology } } },
        });
        var subscription = KubernetesDiscovery.Observe(new DiscoveryConfig(serviceName, "grpc") { Namespace = Ns, ClientConfiguration = emulator.ClientConfiguration }).ApplyTo(channel);
        using (var timeout = new CancellationTokenSource(WarmTimeout)) await channel.Channel.ConnectAsync(timeout.Token);
        var client = new Client(name, service, channel, subscription, _picks, () => emulator.RemoveService(Ns, serviceName));
        client.Load = new OutcomeLoad(channel.CreateCallInvoker(), settings.Callers, settings.CallPause);
        return client;
    }

    private string ShareRow(Client client, string[] zones)
    {
        var calls = client.Judged();
        var ok = calls.Where(c => c.Status == StatusCode.OK).ToList();
        var local = ok.Count(c => Zone(zones, c.Pod) == "zone-a");
        return $"| {client.Name} | {calls.Count:N0} | {calls.Count - ok.Count:N0}{Errors(client)} | {Pct(local, ok.Count)} | {PerZone(ok, zones)} | {client.PicksText()} |";
    }

    private static string Errors(Client client)
    {
        var errors = client.Load!.Calls.Where(c => c.Status != StatusCode.OK).Select(c => c.Status.ToString()).Distinct().ToList();
        return errors.Count == 0 ? "" : $" ({string.Join(", ", errors)})";
    }

    private static string PerZone(List<OutcomeRecord> ok, string[] zones) =>
        string.Join(" / ", new[] { "zone-a", "zone-b", "zone-c" }.Select(z => ok.Count(c => Zone(zones, c.Pod) == z).ToString("N0")));

    private static bool IsIn(string[] pods, string? pod) => pod is not null && pods.Contains(pod);

    private static string[] InZone(string[] zones, string zone) => [.. Ips.Where((_, i) => zones[i] == zone)];

    private static string? Zone(string[] zones, string? ip) => Array.IndexOf(Ips, ip) is var i and >= 0 ? zones[i] : null;

    private static string Ms(long from, long? to) => to is { } t ? $"{Stopwatch.GetElapsedTime(from, t).TotalMilliseconds:0.0} ms" : "none";

    private static string Pct(int part, int whole) => whole == 0 ? "-" : $"{100.0 * part / whole:0.0}%";

    /// <summary>A client channel of one configuration, on its own Service, with its callers.</summary>
    private sealed class Client(string name, EmulatedService service, BalancedChannel channel, IDisposable subscription, LocalityPicks picks, Action removeService) : IAsyncDisposable
    {
        private bool _stopped;

        public string Name { get; } = name;

        public EmulatedService Service { get; } = service;

        public OutcomeLoad? Load { get; set; }

        public long Start { get; set; }

        public long End { get; set; }

        public Dictionary<string, long> WindowPicks { get; set; } = [];

        public Dictionary<string, long> Picks() => picks.Of(Service.Name);

        public string PicksText() => string.Join(" / ", new[] { "same_zone", "other_zone", "unknown" }.Select(l => WindowPicks.GetValueOrDefault(l).ToString("N0")));

        /// <summary>The calls started in the window.</summary>
        public List<OutcomeRecord> Judged() => [.. Load!.Calls.Where(c => c.Start >= Start && c.Start <= End)];

        /// <summary>Stops the callers (once).</summary>
        public async Task StopLoadAsync()
        {
            if (Load is { } load && !_stopped)
            {
                _stopped = true;
                await load.DisposeAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopLoadAsync();
            subscription.Dispose();
            channel.Dispose();
            removeService();
        }
    }
}
