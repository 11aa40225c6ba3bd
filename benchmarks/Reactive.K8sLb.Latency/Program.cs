// End-to-end latency harness for Reactive.K8sLb (not BenchmarkDotNet): a Kubernetes API emulator, real Greeter gRPC
// servers on 127.0.0.x, continuous calls, and timestamps at each hop. See README.md in this folder.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb;
using Reactive.K8sLb.Latency;
using Reactive.K8sLb.Testing;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
// Hundreds of in-process Kestrel "pods": no config file watchers (inotify instances are limited to 128 per user).
Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var o = Options.Parse(args);
if (o is null) return 2;
// --no-warmup: the library's warm-up of the watch path (run once per process after the first snapshot) is off, so the
// first change after startup takes the cold path; for before/after comparisons of the first sample.
Reactive.K8sLb.Internal.WatchPathWarmup.Disabled = o.NoWarmup;
var report = new StringBuilder();
void Out(string line = "")
{
    Console.WriteLine(line);
    report.AppendLine(line);
}

var total = Stopwatch.StartNew();
var startedUtc = DateTime.UtcNow;
var loadAtStart = LoadAverage();

await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions());
var written = new ConcurrentDictionary<long, long>();
long eventsWritten = 0;
emulator.EventWritten += e =>
{
    written.TryAdd(e.ResourceVersion, e.Timestamp);
    Interlocked.Increment(ref eventsWritten);
};

if (o.Zones)
{
    // Zone- and node-aware routing (issue 14): its own nine pods in three zones, every configuration on its own Service.
    using var zonesHarness = new ZonesHarness(emulator, new ZonesSettings(o.Callers, o.CallInterval, o.ZonesWindow), line => Out(line));
    await zonesHarness.RunAsync(LoadAverage);
    Out($"Total run time: {total.Elapsed.TotalSeconds:0} s; load average at the end {LoadAverage()}.");
    await WriteReportAsync("zones-results.md");
    return 0;
}

if (o.Ejection)
{
    // Outlier ejection (issue 13): its own five pods with a fault switch, all configurations side by side.
    var settings = new EjectionSettings(o.Callers, o.CallInterval, o.EjectionDuration, o.EjectionFaultAfter, o.EjectionShortInterval, o.ApplicationErrorDuration, o.EjectionScenarios);
    await new EjectionHarness(emulator, settings, line => Out(line)).RunAsync(LoadAverage);
    Out($"Total run time: {total.Elapsed.TotalSeconds:0} s; load average at the end {LoadAverage()}.");
    await WriteReportAsync("ejection-results.md");
    return 0;
}

// Every insert uses an address the mode's channel has never seen: the library's policy treats an address that left the
// set within the last 5 minutes as a readiness flap, not as a new pod, so recycling addresses would measure a rejoin.
// The channel of each mode is new, so modes reuse the same pods. Only 127.0.0.0/8 is used.
await using var pods = GreeterPods.Create();
var pool = Enumerable.Range(0, o.PoolSize).Select(i => $"127.0.{i / 250}.{2 + (i % 250)}").ToList();
await pods.StartManyAsync(pool);
await pods.WarmAsync(pool);

if (o.PolicyComparison)
{
    await RunPolicyComparisonAsync();
    return 0;
}

Out($"# Reactive.K8sLb end-to-end latency ({(o.Full ? "full" : "quick")})");
Out();
Out($"- reps per mode: {o.Reps} measured (+{o.Warmup} warm-up reps discarded); callers: {o.Callers} concurrent, {(o.CallInterval == TimeSpan.Zero ? "back to back" : $"each pausing {o.CallInterval.TotalMilliseconds} ms between calls")}");
Out($"- new pods: {o.InitialPods} pods to start with; each rep inserts an address not used before in that mode (a pod new to the set), then removes the oldest pod");
Out($"- DNS baseline: polling resolver re-resolving every {o.DnsInterval.TotalMilliseconds:0} ms (scaled down from 30 s)");
Out($"- rolling update: {o.RollPods} pods, {o.RollPace.TotalMilliseconds:0} ms between steps, old pod stops gracefully {o.RollGrace.TotalMilliseconds:0} ms after it turns terminating");
Out($"- runtime {Environment.Version}, {Environment.ProcessorCount} cores, Server GC off; watch-path warm-up {(o.NoWarmup ? "OFF (--no-warmup)" : "on")}");
Out();

var modes = new List<Mode>
{
    new("ours, Debounce = 0", TimeSpan.Zero, null),
    new("ours, default Debounce (50 ms)", null, null),
    new($"DNS-style polling, every {o.DnsInterval.TotalMilliseconds:0} ms", null, o.DnsInterval),
};

var results = new List<ModeResult>();
var index = 0;
foreach (var mode in modes)
{
    if (o.Modes is { } only && !only.Contains(index))
    {
        results.Add(new ModeResult());
        index++;
        continue;
    }

    Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] mode: {mode.Name}");
    results.Add(await RunModeAsync(mode, index++));
}

Out("## Latency per change (ms; p50 / p90 / p99 / max; n)");
Out();
Out("Start of every interval: the emulator flushing the watch event (WatchEventWritten.Timestamp) for our discovery;");
Out("for the DNS-style baseline (no watch) the instant the emulator's state changed (right after AddPod/RemovePod returned).");
Out();
Out("| measurement | " + string.Join(" | ", modes.Select(m => m.Name)) + " |");
Out("|---|" + string.Concat(modes.Select(_ => "---|")));
foreach (var key in ModeResult.Keys)
{
    Out($"| {key} | " + string.Join(" | ", results.Select(r => Fmt(r.Get(key)))) + " |");
}

Out($"| calls served by the removed pod after its removal was written (mean / max per removal) | " +
    string.Join(" | ", results.Select(r => $"{r.CallsAfterRemoval.Mean:0.0} / {r.CallsAfterRemoval.Max:0}")) + " |");
Out($"| failed calls (whole mode) | " + string.Join(" | ", results.Select(r => $"{r.Failed} of {r.Ok + r.Failed}")) + " |");
Out();
Out("## First change after the initial sync (ms)");
Out();
Out("Rep 0 of each mode is the first change its channel sees after the initial sync (in the first mode run, the first in the process). " +
    $"It is reported here on its own, against the {o.Reps} measured reps above: first / median / p99 of the others, and first / median. Target: first <= 3x median for c.");
Out();
Out("| measurement | " + string.Join(" | ", modes.Select(m => m.Name)) + " |");
Out("|---|" + string.Concat(modes.Select(_ => "---|")));
foreach (var key in ModeResult.FirstKeys)
{
    Out($"| {key} | " + string.Join(" | ", results.Select(r => FmtFirst(r.First.Get(key), r.Get(key)))) + " |");
}

Out();
if (o.Modes is not null)
{
    Out($"Total run time: {total.Elapsed.TotalSeconds:0} s (--modes: rolling update and initial sync skipped).");
    await WriteReportAsync("latency-results.md");
    return 0;
}

var sec = o.DnsInterval.TotalSeconds;
var dns = results[2];
Out("### DNS re-resolution at refreshInterval = 30 s (typical configuration)");
Out();
Out("Analytical (change arrival uniform over the refresh period T): delay ~ U(0, T), so mean = T/2 = 15 s, p50 = 15 s, p90 = 27 s, p99 = 29.7 s, max -> 30 s.");
Out($"Measured at T = {o.DnsInterval.TotalMilliseconds:0} ms and scaled by 30 s / T: change -> resolver update p50 {Scale(dns.Get(ModeResult.B)?.P(50))} s, p90 {Scale(dns.Get(ModeResult.B)?.P(90))} s, p99 {Scale(dns.Get(ModeResult.B)?.P(99))} s;");
Out($"removal -> last call served by the removed pod p50 {Scale(dns.Get(ModeResult.D)?.P(50))} s, p99 {Scale(dns.Get(ModeResult.D)?.P(99))} s.");
Out("(grpc-dotnet's real DnsResolverFactory default: no periodic refresh at all, re-resolution only on connection failure, at most every 15 s — a scaled-up pod is then never used until some connection fails.)");
Out();

Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] rolling update");
var roll = await RunRollingUpdateAsync();
Out($"## Rolling update of {o.RollPods} pods (default settings: Debounce 50 ms, MaxDebounceDelay 500 ms)");
Out();
Out("| slice watch events written | resolver updates (listener calls) | ratio | calls ok | calls failed | duration |");
Out("|---|---|---|---|---|---|");
Out($"| {roll.Events} | {roll.Updates} | 1/{(roll.Updates == 0 ? double.NaN : (double)roll.Events / roll.Updates):0.0} | {roll.Ok} | {roll.Failed} | {roll.Duration.TotalMilliseconds:0} ms |");
foreach (var e in roll.Errors) Out($"- failure: {e}");
Out();

Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] initial sync");
var sync = await RunInitialSyncAsync();
Out($"## Initial sync of {o.SyncEndpoints} endpoints ({o.SyncEndpoints / 100} slices), subscription -> first resolver update (ms)");
Out();
Out("| runs | p50 | max | all runs | addresses in first update |");
Out("|---|---|---|---|---|");
Out($"| {sync.Runs.Count} | {sync.Runs.Order().ElementAt((sync.Runs.Count - 1) / 2):0.0} | {sync.Runs.Max():0.0} | {string.Join(", ", sync.Runs.Select(r => r.ToString("0.0")))} | {sync.Addresses} |");
Out();

Out("## Targets");
Out();
Out("| target | measured | met? |");
Out("|---|---|---|");
var b0 = results[0].Get(ModeResult.B);
var c0 = results[0].Get(ModeResult.C);
Out(Target("event -> resolver update, Debounce 0: p50 < 1 ms, p99 < 5 ms", $"p50 {b0?.P(50):0.00}, p99 {b0?.P(99):0.00}", b0 is not null && b0.P(50) < 1 && b0.P(99) < 5));
Out(Target("event -> first call on new pod (Debounce 0, calls running): p50 < 3 ms, p90 < 6 ms", $"p50 {c0?.P(50):0.00}, p90 {c0?.P(90):0.00}", c0 is not null && c0.P(50) < 3 && c0.P(90) < 6));
var cFirst = results[0].First.Get(ModeResult.C);
Out(Target("first change after the initial sync -> first call on the new pod (Debounce 0): first <= 3x median",
    cFirst is { Count: > 0 } && c0 is { Count: > 0 } ? $"first {cFirst.Values[0]:0.00}, median {c0.P(50):0.00} ({cFirst.Values[0] / c0.P(50):0.0}x)" : "n/a",
    cFirst is { Count: > 0 } && c0 is { Count: > 0 } && cFirst.Values[0] <= 3 * c0.P(50)));
var c1 = results[1].Get(ModeResult.C);
Out(Target("(same, default Debounce 50 ms — for reference, the target is for debounce off)", $"p50 {c1?.P(50):0.00}, p90 {c1?.P(90):0.00}", c1 is not null && c1.P(50) < 3 && c1.P(90) < 6));
Out(Target($"rolling update of {o.RollPods} pods: 0 failed calls, updates <= events/10", $"{roll.Failed} failed; {roll.Updates} updates for {roll.Events} events", roll.Failed == 0 && roll.Updates * 10 <= roll.Events));
Out(Target($"initial sync of {o.SyncEndpoints} endpoints -> first resolver update < 250 ms", $"p50 {sync.Runs.Order().ElementAt((sync.Runs.Count - 1) / 2):0.0}, max {sync.Runs.Max():0.0}", sync.Runs.Max() < 250));
Out();
Out($"Total run time: {total.Elapsed.TotalSeconds:0} s.");

await WriteReportAsync("latency-results.md");
return 0;

async Task WriteReportAsync(string defaultName)
{
    var path = o.OutPath ?? Path.Combine(FindRepoRoot(), "benchmarks", defaultName);
    await File.WriteAllTextAsync(path, report.ToString());
    Console.Error.WriteLine($"wrote {path}");
}

static string LoadAverage()
{
    try
    {
        return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "n/a";
    }
}

string Fmt(Samples? s) => s is null ? "n/a" : s.Count == 0 ? $"none (missing {s.Missing})" :
    $"{s.P(50):0.00} / {s.P(90):0.00} / {s.P(99):0.00} / {s.Max:0.00} (n={s.Count}{(s.Missing > 0 ? $", missing {s.Missing}" : "")})";

static string FmtFirst(Samples? first, Samples? rest) =>
    first is null || first.Count == 0 || rest is null || rest.Count == 0 ? "n/a" :
    $"{first.Values[0]:0.00} / {rest.P(50):0.00} / {rest.P(99):0.00} / {first.Values[0] / rest.P(50):0.0}x";

string Scale(double? ms) => ms is null ? "n/a" : (ms.Value / 1000 * 30 / sec).ToString("0.0");

static string Target(string name, string measured, bool met) => $"| {name} | {measured} | {(met ? "met" : "MISSED")} |";

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "ReactiveK8sLb.sln"))) return dir.FullName;
    }

    return Directory.GetCurrentDirectory();
}

static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

static async Task<bool> WaitUntil(Func<bool> condition, TimeSpan timeout)
{
    var sw = Stopwatch.StartNew();
    while (!condition())
    {
        if (sw.Elapsed > timeout) return false;
        await Task.Delay(1);
    }

    return true;
}

static async Task ConnectAsync(GrpcChannel channel)
{
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    await channel.ConnectAsync(timeout.Token);
}

static ServiceConfig ProbeConfig() => new() { LoadBalancingConfigs = { new LoadBalancingConfig(ProbeBalancerFactory.PolicyName) } };

DiscoveryConfig Config(string service, TimeSpan? debounce) =>
    debounce is { } d
        ? new DiscoveryConfig(service, "grpc") { Namespace = "default", ClientConfiguration = emulator.ClientConfiguration, Debounce = d }
        : new DiscoveryConfig(service, "grpc") { Namespace = "default", ClientConfiguration = emulator.ClientConfiguration };

async Task<ModeResult> RunModeAsync(Mode mode, int n, int? repsOverride = null)
{
    var reps = repsOverride ?? o.Reps;
    var modeResult = new ModeResult();
    var service = emulator.AddService("default", $"lat-{n}", new EmulatedServicePort("grpc", pods.Port));
    var current = new List<string>(pool.Take(o.InitialPods));
    var used = new HashSet<string>(current);
    foreach (var ip in current) service.AddPod(ip);

    // Each side with its own default policy: ours serves a newly ready pod first, DNS-style users get round_robin.
    // The policy comparison names the policy under the probe.
    var probe = new ProbeBalancerFactory(connect: true, mode.Policy is { } policy ? Policies.Factory(policy)
        : mode.DnsInterval is null && !o.PlainRoundRobin ? new NewestFirstRoundRobinBalancerFactory() : null);
    var seenInsert = new ConcurrentDictionary<string, long>();
    var seenRemove = new ConcurrentDictionary<string, long>();
    ChannelBase channel;
    IDisposable? owner;
    GrpcChannel underlying;
    if (mode.DnsInterval is { } interval)
    {
        var sp = new ServiceCollection()
            .AddSingleton<LoadBalancerFactory>(probe)
            .AddSingleton<ResolverFactory>(new EmulatedDnsResolverFactory(service, pods.Port, interval))
            .BuildServiceProvider();
        var grpc = GrpcChannel.ForAddress($"{EmulatedDnsResolverFactory.Scheme}:///lat-{n}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = sp,
            ServiceConfig = ProbeConfig(),
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan },
        });
        channel = grpc;
        owner = grpc;
        underlying = grpc;
    }
    else
    {
        var sp = new ServiceCollection().AddSingleton<LoadBalancerFactory>(probe).BuildServiceProvider();
        var balanced = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceProvider = sp,
            ServiceConfig = ProbeConfig(),
        });
        var discovery = new TappedDiscovery(KubernetesDiscovery.Observe(Config($"lat-{n}", mode.Debounce)), (change, ts) =>
        {
            var host = change.Item is IPEndPoint ip ? ip.Address.ToString() : change.Item?.ToString() ?? "";
            if (change.Kind == ChangeKind.Insert) seenInsert[host] = ts;
            else seenRemove[host] = ts;
        });
        discovery.ApplyTo(balanced);
        channel = balanced;
        owner = balanced;
        underlying = balanced.Channel;
    }

    // Callers start once the channel is Ready: before the first snapshot this library's resolver reports "waiting",
    // which its own policy turns into queued calls but grpc-dotnet's balancers turn into failed calls.
    await ConnectAsync(underlying);
    var perStep = mode.DnsInterval is { } iv ? iv * 3 + TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(10);
    await using (var load = new CallLoad(channel.CreateCallInvoker(), o.Callers, o.CallInterval, perStep * (reps + o.Warmup + 2) * 2))
    {
        if (!await WaitUntil(() => current.All(load.FirstReply.ContainsKey), TimeSpan.FromSeconds(30)))
        {
            throw new InvalidOperationException($"{mode.Name}: initial pods never served a call; errors: {string.Join("; ", load.Errors)}");
        }

        var rng = new Random(42 + n);
        var jitterMax = mode.DnsInterval ?? TimeSpan.FromMilliseconds(20);
        for (var rep = 0; rep < reps + o.Warmup; rep++)
        {
            // Rep 0 is the first change this channel sees after its initial sync (in mode 0, the first after process
            // start): it is reported on its own (ModeResult.First), then the warm-up reps are discarded.
            var measured = rep >= o.Warmup || rep == 0;
            var result = rep == 0 ? modeResult.First : modeResult;
            await Task.Delay(TimeSpan.FromMilliseconds(rng.NextDouble() * jitterMax.TotalMilliseconds + 5));

            // ---- insert a running pod that this channel has never seen (a genuinely new pod) ----
            var added = pool.First(ip => !used.Contains(ip));
            used.Add(added);
            load.FirstReply.TryRemove(added, out _);
            load.FirstReplyStart.TryRemove(added, out _);
            var before = Stopwatch.GetTimestamp();
            service.AddPod(added);
            var after = Stopwatch.GetTimestamp();
            var rv = emulator.CurrentResourceVersion;
            current.Add(added);
            var ok = await WaitUntil(() =>
                    load.FirstReply.ContainsKey(added) &&
                    probe.Updates.Any(u => u.Timestamp >= before && u.Hosts.Contains(added)) &&
                    (mode.DnsInterval is not null || (seenInsert.TryGetValue(added, out var s) && s >= before && written.ContainsKey(rv))),
                perStep);
            if (measured)
            {
                long t0 = mode.DnsInterval is null ? (written.TryGetValue(rv, out var w) ? w : after) : after;
                if (mode.DnsInterval is null)
                {
                    if (seenInsert.TryGetValue(added, out var s) && s >= before) result.Add(ModeResult.A, Ms(t0, s));
                    else result.Miss(ModeResult.A);
                }

                var update = probe.Updates.FirstOrDefault(u => u.Timestamp >= before && u.Hosts.Contains(added));
                if (update is not null) result.Add(ModeResult.B, Ms(t0, update.Timestamp));
                else result.Miss(ModeResult.B);
                if (probe.SubchannelCreated.TryGetValue(added, out var created) && created >= before) result.Add(ModeResult.C1, Ms(t0, created));
                if (probe.SubchannelReady.TryGetValue(added, out var ready) && ready >= before) result.Add(ModeResult.C2, Ms(t0, ready));
                if (probe.SubchannelReady.TryGetValue(added, out var ready2) && ready2 >= before && load.FirstReply.TryGetValue(added, out var first2) && load.FirstReplyStart.TryGetValue(added, out var start2))
                {
                    result.Add(ModeResult.ReadyToStart, Ms(ready2, start2));
                    if (probe.FirstPick.TryGetValue(added, out var pick))
                    {
                        result.Add(ModeResult.ReadyToPick, Ms(ready2, pick));
                        result.Add(ModeResult.PickToReply, Ms(pick, first2));
                    }

                    var picker = probe.PickerUpdates.Where(t => t >= ready2).DefaultIfEmpty(0).First();
                    if (picker != 0) result.Add(ModeResult.ReadyToPicker, Ms(ready2, picker));
                    result.Add(ModeResult.FirstCall, Ms(start2, first2));
                }

                if (load.FirstReply.TryGetValue(added, out var first)) result.Add(ModeResult.C, Ms(t0, first));
                else result.Miss(ModeResult.C);
                if (!ok) Console.Error.WriteLine($"  rep {rep}: insert of {added} not fully observed within {perStep}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(rng.NextDouble() * jitterMax.TotalMilliseconds + 5));

            // ---- remove the oldest pod (its server keeps running, like a terminating pod) ----
            var removed = current[0];
            var counters = pods.CountersOf(removed);
            var beforeRemove = Stopwatch.GetTimestamp();
            service.RemovePod(removed);
            var afterRemove = Stopwatch.GetTimestamp();
            var servedAtRemove = counters.Served;
            var rv2 = emulator.CurrentResourceVersion;
            current.RemoveAt(0);
            var removedOk = await WaitUntil(() => probe.Updates.Any(u => u.Timestamp >= beforeRemove && !u.Hosts.Contains(removed) && u.Hosts.Count > 0), perStep);
            await Task.Delay(150); // in-flight calls finish; no new picks go to it after the update
            if (measured)
            {
                long t0 = mode.DnsInterval is null ? (written.TryGetValue(rv2, out var w) ? w : afterRemove) : afterRemove;
                var update = probe.Updates.FirstOrDefault(u => u.Timestamp >= beforeRemove && !u.Hosts.Contains(removed) && u.Hosts.Count > 0);
                if (update is not null) result.Add(ModeResult.RemoveB, Ms(t0, update.Timestamp));
                else result.Miss(ModeResult.RemoveB);
                if (mode.DnsInterval is null && seenRemove.TryGetValue(removed, out var sr) && sr >= beforeRemove) result.Add(ModeResult.RemoveA, Ms(t0, sr));
                // Negative when no call reached it after the event was written: counted as 0.
                result.Add(ModeResult.D, Math.Max(0, Ms(t0, counters.LastServed)));
                result.CallsAfterRemoval.Add(counters.Served - servedAtRemove);
                if (!removedOk) Console.Error.WriteLine($"  rep {rep}: removal of {removed} not observed within {perStep}");
            }
        }

        modeResult.Ok = load.Ok;
        modeResult.Failed = load.Failed;
        foreach (var e in load.Errors.Take(5)) Console.Error.WriteLine($"  call error: {e}");
    }

    owner.Dispose();
    return modeResult;
}

// ---- policy comparison: round_robin vs the old and the new newest-first policy (--policy-comparison) ----

async Task RunPolicyComparisonAsync()
{
    Out("# Newest-first: flapping pod vs new pod (policy comparison)");
    Out();
    Out($"- date: {startedUtc:yyyy-MM-dd HH:mm} UTC; runtime {Environment.Version}, {Environment.ProcessorCount} cores, Server GC off; load average (1/5/15 min) at start {loadAtStart}");
    Out($"- policies: {string.Join("; ", Policies.Compared.Select(Policies.Describe))}");
    Out("- discovery: `KubernetesDiscovery.Observe(config with Debounce = 0).ApplyTo(BalancedChannel)` against the in-process API emulator; pods are real Greeter gRPC servers on 127.0.0.x, one port");
    Out();

    Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] flapping pod: {Policies.Compared.Length * o.FlapCallIntervals.Count} channels side by side for {o.FlapDuration.TotalSeconds:0} s");
    var flap = await RunFlappingAsync();
    var readyPct = flap.ReadyFraction * 100;
    Out($"## 1. Flapping pod: {o.FlapPods} pods, one of them ({flap.Ip}) toggling ready / not ready");
    Out();
    var intervals = string.Join(" and ", o.FlapCallIntervals.Select(i => $"{i.TotalMilliseconds:0} ms"));
    Out($"The pod toggles (`EmulatedService.SetReady`) after delays drawn uniformly from [{o.FlapToggleMin.TotalMilliseconds:0}, {o.FlapToggleMax.TotalMilliseconds:0}] ms for {flap.Window.TotalSeconds:0.0} s: " +
        $"{flap.Toggles} toggles, {flap.ReadyPeriods} ready periods, ready {readyPct:0.0}% of the time. " +
        $"One channel per policy and caller rate, all {flap.Policies.Count} at the same time on the same Service (they see the same flaps), each with ONE caller: a unary call, then a pause of {intervals}. " +
        "Counted: calls started in the flapping window. Fair share = calls started while the pod was ready / " + o.FlapPods + ", over all calls " +
        $"(about 1/{o.FlapPods} x {readyPct:0}% = {readyPct / o.FlapPods:0.0}%).");
    Out();
    Out("| caller | policy | calls | failed | flapping pod's calls | flapping pod's share | fair share | share / fair | flapping pod's calls per ready period | each steady pod's share, min / mean / max |");
    Out("|---|---|---|---|---|---|---|---|---|---|");
    foreach (var r in flap.Policies)
    {
        Out($"| call + {r.CallInterval.TotalMilliseconds:0} ms pause | {Policies.Describe(r.Policy)} | {r.Ok} | {r.Failed} | {r.FlapCalls} | {Pct(r.FlapCalls, r.Ok)} | {Pct(r.FairCalls, r.Ok)} | {(r.FairCalls == 0 ? double.NaN : r.FlapCalls / r.FairCalls):0.00}x | " +
            $"{(double)r.FlapCalls / Math.Max(1, flap.ReadyPeriods):0.00} (fair {r.FairCalls / Math.Max(1, flap.ReadyPeriods):0.00}) | {Pct(r.SteadyCalls.Min(), r.Ok)} / {Pct(r.SteadyCalls.Average(), r.Ok)} / {Pct(r.SteadyCalls.Max(), r.Ok)} |");
    }

    foreach (var r in flap.Policies)
    {
        foreach (var e in r.Errors) Out($"- {r.Policy}, {r.CallInterval.TotalMilliseconds:0} ms caller, failure: {e}");
    }

    Out();

    var perRun = (o.Reps + o.Rounds - 1) / o.Rounds;
    var merged = Policies.Compared.ToDictionary(p => p, _ => new ModeResult());
    var n = 100;
    for (var round = 0; round < o.Rounds; round++)
    {
        foreach (var policy in round % 2 == 0 ? Policies.Compared : [.. Policies.Compared.Reverse()])
        {
            Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] new pod among {o.InitialPods}: {policy}, round {round + 1} of {o.Rounds}");
            merged[policy].Merge(await RunModeAsync(new Mode(policy, TimeSpan.Zero, null, policy), n++, perRun));
        }
    }

    Out($"## 2. New pod: first call served by a pod new to the set, among {o.InitialPods} pods (ms; p50 / p90 / max; n)");
    Out();
    Out($"The latency harness's insert measurement with Debounce = 0: {o.Callers} callers, {(o.CallInterval == TimeSpan.Zero ? "back to back" : $"each pausing {o.CallInterval.TotalMilliseconds} ms between calls")}; " +
        $"{o.InitialPods} pods, then per rep one insert of an address the channel has never seen and one removal of the oldest pod. " +
        $"{o.Rounds} round(s) of {perRun} measured reps (+{o.Warmup} warm-up) per policy, the policy order reversed every other round; the probe policy wraps each policy to timestamp the subchannel and the picks.");
    Out();
    Out("| policy | event written -> first call served by the new pod | event written -> subchannel Ready | subchannel Ready -> first pick of the new pod | failed calls |");
    Out("|---|---|---|---|---|");
    foreach (var policy in Policies.Compared)
    {
        var r = merged[policy];
        Out($"| {Policies.Describe(policy)} | {Short(r.Get(ModeResult.C))} | {Short(r.Get(ModeResult.C2))} | {Short(r.Get(ModeResult.ReadyToPick))} | {r.Failed} of {r.Ok + r.Failed} |");
    }

    Out();
    Out($"Total run time: {total.Elapsed.TotalSeconds:0} s; load average at the end {LoadAverage()}.");
    await WriteReportAsync("newest-first-results.md");
}

async Task<FlapResult> RunFlappingAsync()
{
    var ips = pool.Take(o.FlapPods).ToList();
    var result = new FlapResult(ips[^1]);
    var service = emulator.AddService("default", "flap", new EmulatedServicePort("grpc", pods.Port));
    foreach (var ip in ips) service.AddPod(ip);
    var channels = new List<BalancedChannel>();
    var loads = new List<(string Policy, TimeSpan Interval, CallLoad Load)>();
    var ready = true;
    try
    {
        foreach (var interval in o.FlapCallIntervals)
        foreach (var policy in Policies.Compared)
        {
            // round_robin is built into grpc-dotnet and newest_first_round_robin into BalancedChannel; the old one is added.
            var sp = new ServiceCollection().AddSingleton<LoadBalancerFactory>(new OldNewestFirstRoundRobinBalancerFactory()).BuildServiceProvider();
            var channel = BalancedChannel.Create(new GrpcChannelOptions
            {
                ServiceProvider = sp,
                ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(policy) } },
            });
            channels.Add(channel);
            KubernetesDiscovery.Observe(Config("flap", TimeSpan.Zero)).ApplyTo(channel);
            await ConnectAsync(channel.Channel); // see RunModeAsync: callers start on a Ready channel
            loads.Add((policy, interval, new CallLoad(channel.CreateCallInvoker(), 1, interval, o.FlapDuration + TimeSpan.FromMinutes(2), log: true)));
        }

        if (!await WaitUntil(() => loads.All(l => ips.All(l.Load.FirstReply.ContainsKey)), TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("  flapping: not every pod served every channel before the flapping started");
        }

        await Task.Delay(500);
        var rng = new Random(7);
        var readyIntervals = new List<(long From, long To)>();
        var windowStart = Stopwatch.GetTimestamp();
        var readySince = windowStart;
        var windowEnd = windowStart + (long)(o.FlapDuration.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            await Task.Delay(o.FlapToggleMin + ((o.FlapToggleMax - o.FlapToggleMin) * rng.NextDouble()));
            var now = Stopwatch.GetTimestamp();
            if (now >= windowEnd)
            {
                windowEnd = now;
                break;
            }

            ready = !ready;
            service.SetReady(result.Ip, ready);
            result.Toggles++;
            if (ready) readySince = now;
            else readyIntervals.Add((readySince, now));
        }

        if (ready) readyIntervals.Add((readySince, windowEnd));
        result.Window = Stopwatch.GetElapsedTime(windowStart, windowEnd);
        result.ReadyPeriods = readyIntervals.Count;
        result.ReadyFraction = readyIntervals.Sum(i => (double)(i.To - i.From)) / (windowEnd - windowStart);
        bool WhileReady(long t) => readyIntervals.Any(i => t >= i.From && t < i.To);

        foreach (var (policy, interval, load) in loads)
        {
            var calls = load.Log!.Where(c => c.Start >= windowStart && c.Start < windowEnd).ToList();
            var ok = calls.Where(c => c.Pod is not null).ToList();
            result.Policies.Add(new FlapPolicyResult(
                policy,
                interval,
                ok.Count,
                calls.Count - ok.Count,
                ok.Count(c => c.Pod == result.Ip),
                ok.Count(c => WhileReady(c.Start)) / (double)ips.Count,
                [.. ips.Where(ip => ip != result.Ip).Select(ip => (double)ok.Count(c => c.Pod == ip))],
                [.. load.Errors.Take(5)]));
        }
    }
    finally
    {
        if (!ready) service.SetReady(result.Ip, true);
        foreach (var (_, _, load) in loads) await load.DisposeAsync();
        foreach (var channel in channels) channel.Dispose();
        emulator.RemoveService("default", "flap");
    }

    return result;
}

static string Pct(double part, double whole) => whole == 0 ? "n/a" : $"{part / whole * 100:0.0}%";

static string Short(Samples? s) => s is null || s.Count == 0 ? "n/a" : $"{s.P(50):0.00} / {s.P(90):0.00} / {s.Max:0.00} (n={s.Count})";

async Task<RollResult> RunRollingUpdateAsync()
{
    var oldIps = Enumerable.Range(1, o.RollPods).Select(i => $"127.0.{1 + (i / 250)}.{1 + (i % 250)}").ToList();
    var newIps = Enumerable.Range(1, o.RollPods).Select(i => $"127.0.{101 + (i / 250)}.{1 + (i % 250)}").ToList();
    await using var rollPods = GreeterPods.Create();
    await rollPods.StartManyAsync(oldIps.Concat(newIps));
    var service = emulator.AddService("default", "roll", new EmulatedServicePort("grpc", rollPods.Port));
    service.Batch(s =>
    {
        foreach (var ip in oldIps) s.AddPod(ip);
    });

    var probe = new ProbeBalancerFactory(connect: true, new NewestFirstRoundRobinBalancerFactory());
    var sp = new ServiceCollection().AddSingleton<LoadBalancerFactory>(probe).BuildServiceProvider();
    using var channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceProvider = sp, ServiceConfig = ProbeConfig() });
    KubernetesDiscovery.Observe(Config("roll", debounce: null)).ApplyTo(channel);
    var result = new RollResult();
    await using (var load = new CallLoad(channel.CreateCallInvoker(), o.Callers, o.CallInterval, TimeSpan.FromMinutes(5)))
    {
        if (!await WaitUntil(() => oldIps.All(load.FirstReply.ContainsKey), TimeSpan.FromSeconds(60)))
        {
            Console.Error.WriteLine($"  rolling update: only {oldIps.Count(load.FirstReply.ContainsKey)} of {oldIps.Count} old pods served before the update");
        }

        await Task.Delay(700); // past MaxDebounceDelay: nothing pending
        var events0 = Interlocked.Read(ref eventsWritten);
        var updates0 = probe.Count;
        var ok0 = load.Ok;
        var failed0 = load.Failed;
        var stops = new ConcurrentBag<Task>();
        var sw = Stopwatch.StartNew();
        await service.RollingUpdateAsync(newIps, async old =>
        {
            // Terminating (ready=false) now; the server drains and stops after a scaled-down preStop grace period.
            stops.Add(Task.Run(async () =>
            {
                await Task.Delay(o.RollGrace);
                await rollPods.StopAsync(old);
            }));
            await Task.Delay(o.RollPace);
        });
        await WaitUntil(() => probe.Updates.Any(u => u.Hosts.SetEquals(newIps)), TimeSpan.FromSeconds(30));
        result.Duration = sw.Elapsed;
        await Task.WhenAll(stops);
        await Task.Delay(700);
        result.Events = Interlocked.Read(ref eventsWritten) - events0;
        result.Updates = probe.Count - updates0;
        result.Ok = load.Ok - ok0;
        result.Failed = load.Failed - failed0;
        result.Errors.AddRange(load.Errors.Take(5));
    }

    emulator.RemoveService("default", "roll");
    return result;
}

async Task<SyncResult> RunInitialSyncAsync()
{
    var service = emulator.AddService("default", "big", new EmulatedServicePort("grpc", 50051));
    // Data only: 10.x addresses are never connected (the probe balancer creates no subchannels).
    service.Batch(s =>
    {
        for (var i = 0; i < o.SyncEndpoints; i++) s.AddPod($"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}");
    });
    var result = new SyncResult();
    for (var run = 0; run < o.SyncRuns + 1; run++)
    {
        var probe = new ProbeBalancerFactory(connect: false);
        var sp = new ServiceCollection().AddSingleton<LoadBalancerFactory>(probe).BuildServiceProvider();
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceProvider = sp, ServiceConfig = ProbeConfig() });
        using var cts = new CancellationTokenSource();
        var connect = channel.Channel.ConnectAsync(cts.Token); // starts the resolver (listener registered)
        await Task.Delay(50);
        var start = Stopwatch.GetTimestamp();
        using var subscription = KubernetesDiscovery.Observe(Config("big", debounce: null)).ApplyTo(channel);
        // The first update WITH addresses: the resolver also reports once when it starts (before the subscription),
        // saying that it waits for the first snapshot.
        var ok = await WaitUntil(() => probe.Updates.Any(u => u.Hosts.Count > 0), TimeSpan.FromSeconds(30));
        if (ok && probe.Updates.FirstOrDefault(u => u.Hosts.Count > 0) is { } first)
        {
            if (run > 0) result.Runs.Add(Ms(start, first.Timestamp)); // run 0 is the JIT warm-up
            result.Addresses = first.Hosts.Count;
        }

        await cts.CancelAsync();
        try
        {
            await connect;
        }
        catch (OperationCanceledException)
        {
        }
    }

    return result;
}

internal sealed record Mode(string Name, TimeSpan? Debounce, TimeSpan? DnsInterval, string? Policy = null);

internal sealed class ModeResult
{
    public const string A = "a. event written -> Change seen by the discovery subscriber";
    public const string B = "b. event written -> resolver update with the new address (listener call)";
    public const string C1 = "c1. event written -> round_robin created the subchannel";
    public const string C2 = "c2. event written -> subchannel Ready (TCP connected)";
    public const string ReadyToPicker = "c2b. subchannel Ready -> next picker handed to the channel (per rep)";
    public const string ReadyToPick = "c3a. subchannel Ready -> first pick of the new subchannel (per rep)";
    public const string PickToReply = "c3b. first pick of the new subchannel -> first reply from the new pod (per rep)";
    public const string ReadyToStart = "c3. subchannel Ready -> start of the first call that reached the new pod (per rep; negative: call started before Ready and waited for the pick)";
    public const string FirstCall = "c4. duration of that first call (pick + HTTP/2 connection setup on the connected socket + unary call)";
    public const string C = "c. event written -> first call served by the new pod (reply received)";
    public const string RemoveA = "removal written -> Remove change seen by the subscriber";
    public const string RemoveB = "removal written -> resolver update without the removed address";
    public const string D = "d. removal written -> last call served by the removed pod (server side)";

    public static readonly string[] Keys = [A, B, C1, C2, ReadyToPicker, ReadyToPick, PickToReply, ReadyToStart, FirstCall, C, RemoveA, RemoveB, D];

    /// <summary>The measurements of the first-change table.</summary>
    public static readonly string[] FirstKeys = [A, B, C1, C2, ReadyToPick, PickToReply, FirstCall, C, RemoveB];

    private readonly Dictionary<string, Samples> _samples = [];
    private ModeResult? _first;

    /// <summary>The first rep alone: the first change the channel sees after its initial sync (reported separately).</summary>
    public ModeResult First => _first ??= new ModeResult();

    public Samples CallsAfterRemoval { get; } = new("calls after removal");

    public long Ok { get; set; }

    public long Failed { get; set; }

    public Samples? Get(string key) => _samples.GetValueOrDefault(key);

    /// <summary>Adds another run's samples and counts (rounds of the same mode).</summary>
    public void Merge(ModeResult other)
    {
        foreach (var (key, samples) in other._samples)
        {
            var mine = Of(key);
            foreach (var v in samples.Values) mine.Add(v);
            mine.Missing += samples.Missing;
        }

        foreach (var v in other.CallsAfterRemoval.Values) CallsAfterRemoval.Add(v);
        if (other._first is not null) First.Merge(other._first);
        Ok += other.Ok;
        Failed += other.Failed;
    }

    public void Add(string key, double ms) => Of(key).Add(ms);

    public void Miss(string key) => Of(key).Missing++;

    private Samples Of(string key)
    {
        if (!_samples.TryGetValue(key, out var s)) _samples[key] = s = new Samples(key);
        return s;
    }
}

internal sealed class FlapResult(string ip)
{
    /// <summary>The flapping pod.</summary>
    public string Ip { get; } = ip;

    public int Toggles { get; set; }

    public int ReadyPeriods { get; set; }

    /// <summary>Fraction of the window during which the emulator had the pod ready.</summary>
    public double ReadyFraction { get; set; }

    public TimeSpan Window { get; set; }

    public List<FlapPolicyResult> Policies { get; } = [];
}

/// <summary>One policy's calls in the flapping window; <c>FairCalls</c> = calls started while the pod was ready / pods.</summary>
internal sealed record FlapPolicyResult(string Policy, TimeSpan CallInterval, int Ok, int Failed, int FlapCalls, double FairCalls, double[] SteadyCalls, string[] Errors);

internal sealed class RollResult
{
    public long Events { get; set; }

    public long Updates { get; set; }

    public long Ok { get; set; }

    public long Failed { get; set; }

    public TimeSpan Duration { get; set; }

    public List<string> Errors { get; } = [];
}

internal sealed class SyncResult
{
    public List<double> Runs { get; } = [];

    public int Addresses { get; set; }
}

internal sealed record Options(bool Full, int Reps, int Warmup, int Callers, TimeSpan CallInterval, int PoolSize, TimeSpan DnsInterval, int RollPods, TimeSpan RollPace, TimeSpan RollGrace, int SyncEndpoints, int SyncRuns, string? OutPath, int InitialPods = 3, bool PlainRoundRobin = false)
{
    /// <summary>Only these modes (0-based: ours Debounce 0, ours default Debounce, DNS-style); also skips the rolling update and initial sync.</summary>
    public IReadOnlyList<int>? Modes { get; init; }

    /// <summary>Turns the library's watch-path warm-up off (the cold first change, for comparison).</summary>
    public bool NoWarmup { get; init; }

    /// <summary>Runs only the policy comparison (flapping pod, then new pod) for round_robin, old and new newest-first.</summary>
    public bool PolicyComparison { get; init; }

    /// <summary>Rounds of the new-pod case; each round runs every policy once (the order reversed every other round).</summary>
    public int Rounds { get; init; } = 2;

    /// <summary>Runs only the outlier-ejection measurement (issue 13).</summary>
    public bool Ejection { get; init; }

    /// <summary>Runs only the zone-routing measurement (issue 14).</summary>
    public bool Zones { get; init; }

    /// <summary>Zones: how long each configuration's calls are counted.</summary>
    public TimeSpan ZonesWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Ejection: length of each scenario, from the start of the clock.</summary>
    public TimeSpan EjectionDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Ejection: when the faulty pods start failing.</summary>
    public TimeSpan EjectionFaultAfter { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Ejection: the shorter Interval of the extra rows.</summary>
    public TimeSpan EjectionShortInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Ejection: length of the application-error scenario (the issue asks for 5 minutes).</summary>
    public TimeSpan ApplicationErrorDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Ejection: only these scenarios (1-based), or all.</summary>
    public IReadOnlyList<int>? EjectionScenarios { get; init; }

    public int FlapPods { get; init; } = 10;

    public TimeSpan FlapDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>One caller per policy and per interval: a call, then this pause.</summary>
    public IReadOnlyList<TimeSpan> FlapCallIntervals { get; init; } = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100)];

    /// <summary>The flapping pod toggles ready/not ready after a delay drawn uniformly from [min, max].</summary>
    public TimeSpan FlapToggleMin { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan FlapToggleMax { get; init; } = TimeSpan.FromMilliseconds(300);

    public static Options? Parse(string[] args)
    {
        var full = args.Contains("--full");
        var comparison = args.Contains("--policy-comparison");
        var ejection = args.Contains("--ejection");
        var zones = args.Contains("--zones");
        var o = new Options(full, full ? 200 : 30, 3, 4, TimeSpan.FromMilliseconds(1), 6, TimeSpan.FromMilliseconds(full ? 1000 : 500), 100, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(1), 10_000, full ? 10 : 3, null, comparison ? 20 : 3)
        {
            PolicyComparison = comparison,
            Ejection = ejection,
            Zones = zones,
        };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--full": break;
                case "--policy-comparison": break;
                case "--ejection": break;
                case "--zones": break;
                case "--zones-seconds": o = o with { ZonesWindow = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) }; break;
                case "--ejection-seconds": o = o with { EjectionDuration = TimeSpan.FromSeconds(Int()) }; break;
                case "--fault-after-seconds": o = o with { EjectionFaultAfter = TimeSpan.FromSeconds(Int()) }; break;
                case "--scenarios": o = o with { EjectionScenarios = [.. Next().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] }; break;
                case "--app-error-seconds": o = o with { ApplicationErrorDuration = TimeSpan.FromSeconds(Int()) }; break;
                case "--short-interval-ms": o = o with { EjectionShortInterval = TimeSpan.FromMilliseconds(Int()) }; break;
                case "--reps": o = o with { Reps = Int() }; break;
                case "--callers": o = o with { Callers = Int() }; break;
                case "--call-interval-ms": o = o with { CallInterval = TimeSpan.FromMilliseconds(double.Parse(Next(), CultureInfo.InvariantCulture)) }; break;
                case "--dns-interval-ms": o = o with { DnsInterval = TimeSpan.FromMilliseconds(Int()) }; break;
                case "--roll-pods": o = o with { RollPods = Int() }; break;
                case "--roll-pace-ms": o = o with { RollPace = TimeSpan.FromMilliseconds(Int()) }; break;
                case "--sync-endpoints": o = o with { SyncEndpoints = Int() }; break;
                case "--out": o = o with { OutPath = Next() }; break;
                case "--pods": o = o with { InitialPods = Int() }; break;
                case "--round-robin": o = o with { PlainRoundRobin = true }; break;
                case "--no-warmup": o = o with { NoWarmup = true }; break;
                case "--modes": o = o with { Modes = [.. Next().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] }; break;
                case "--rounds": o = o with { Rounds = Math.Max(1, Int()) }; break;
                case "--flap-pods": o = o with { FlapPods = Math.Max(2, Int()) }; break;
                case "--flap-seconds": o = o with { FlapDuration = TimeSpan.FromSeconds(Int()) }; break;
                case "--flap-call-interval-ms": o = o with { FlapCallIntervals = [.. Next().Split(',').Select(v => TimeSpan.FromMilliseconds(int.Parse(v, CultureInfo.InvariantCulture)))] }; break;
                case "--flap-toggle-ms":
                    var range = Next().Split('-');
                    o = o with { FlapToggleMin = TimeSpan.FromMilliseconds(int.Parse(range[0], CultureInfo.InvariantCulture)), FlapToggleMax = TimeSpan.FromMilliseconds(int.Parse(range[^1], CultureInfo.InvariantCulture)) };
                    break;
                default:
                    Console.Error.WriteLine("usage: Reactive.K8sLb.Latency [--full] [--reps N] [--callers N] [--call-interval-ms MS] [--dns-interval-ms MS] [--roll-pods N] [--roll-pace-ms MS] [--sync-endpoints N] [--pods N] [--round-robin] [--out PATH]");
                    Console.Error.WriteLine("       Reactive.K8sLb.Latency --ejection [--callers N] [--call-interval-ms MS] [--ejection-seconds S] [--fault-after-seconds S] [--short-interval-ms MS] [--app-error-seconds S] [--scenarios LIST] [--out PATH]");
                    Console.Error.WriteLine("       Reactive.K8sLb.Latency --zones [--callers N] [--call-interval-ms MS] [--zones-seconds S] [--out PATH]");
                    Console.Error.WriteLine("       Reactive.K8sLb.Latency --policy-comparison [--reps N] [--rounds N] [--pods N] [--callers N] [--call-interval-ms MS] [--flap-pods N] [--flap-seconds S] [--flap-call-interval-ms MS[,MS...]] [--flap-toggle-ms MIN-MAX] [--out PATH]");
                    return null;
            }
        }

        // Each mode run inserts a never-used address per rep (warm-up reps included) on top of its initial pods.
        var repsPerRun = o.PolicyComparison ? (o.Reps + o.Rounds - 1) / o.Rounds : o.Reps;
        return o with { PoolSize = Math.Max(o.PolicyComparison ? o.FlapPods : 0, o.InitialPods + repsPerRun + o.Warmup) };
    }
}
