// Load-aware picking compared (issue 15), not BenchmarkDotNet: real Greeter gRPC servers on 127.0.0.2-6 with an
// adjustable per-call delay, one BalancedChannel per policy, 8 callers back to back, every policy in the same run on
// the same pods so machine noise hits them alike. See README.md in this folder.
using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb;
using Reactive.K8sLb.Policies;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");

var o = Options.Parse(args);
if (o is null) return 2;

var total = Stopwatch.StartNew();
string[] ips = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"];
var slowIp = ips[^1];
await using var pods = DelayPods.Create();
await pods.StartAsync(ips);

Console.WriteLine($"# Load-aware picking ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
Console.WriteLine();
Console.WriteLine($"- {ips.Length} Greeter pods on {ips[0]}..{ips[^1]}, one port; the slow pod ({slowIp}) adds {o.SlowMs} ms per call, the others answer at once");
Console.WriteLine($"- {o.Callers} callers back to back (unary calls, 10 s deadline); one BalancedChannel per policy, opened and warmed 1 s before measuring");
Console.WriteLine($"- runtime {Environment.Version}, {Environment.ProcessorCount} cores, load average at start {LoadAverage()}");
Console.WriteLine();

if (o.SlowPod) await SlowPodAsync();
if (o.SlowHalfway) await SlowHalfwayAsync();
if (o.SlowStart) await SlowStartAsync();
Console.WriteLine($"Total run time: {total.Elapsed.TotalSeconds:0} s; load average at the end {LoadAverage()}.");
return 0;

// 1. Steady state with one slow pod, then all fast: the policies interleaved in rounds (each round gives every policy
// duration / rounds), so a burst of machine noise falls on all of them.
async Task SlowPodAsync()
{
    foreach (var slow in new[] { true, false })
    {
        var title = slow ? $"one pod {o.SlowMs} ms slower" : "homogeneous (no slow pod)";
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] slow pod: {title}");
        pods.ResetDelays();
        if (slow) pods.DelayOf(slowIp).Value = TimeSpan.FromMilliseconds(o.SlowMs);
        var policies = Compared();
        var channels = new List<BalancedChannel>();
        foreach (var policy in policies)
        {
            var channel = await policy.OpenAsync(ips, pods.Port);
            await WarmAsync(channel);
            channels.Add(channel);
        }

        var calls = policies.Select(_ => new List<CallRecord>()).ToArray();
        var elapsed = new double[policies.Count];
        var errors = policies.Select(_ => new List<string>()).ToArray();
        var slot = o.Duration / o.Rounds;
        for (var round = 0; round < o.Rounds; round++)
        {
            for (var i = 0; i < policies.Count; i++)
            {
                var load = new CallLoad(channels[i].CreateCallInvoker(), o.Callers);
                var start = Stopwatch.GetTimestamp();
                await Task.Delay(slot);
                var stop = Stopwatch.GetTimestamp();
                await load.DisposeAsync();
                calls[i].AddRange(load.Calls.Where(c => c.Start < stop));
                elapsed[i] += Stopwatch.GetElapsedTime(start, stop).TotalSeconds;
                errors[i].AddRange(load.Errors);
            }
        }

        foreach (var channel in channels) channel.Dispose();

        Console.WriteLine($"## {title}: {o.Duration.TotalSeconds:0} s per policy, in {o.Rounds} interleaved rounds");
        Console.WriteLine();
        Console.WriteLine("| policy | calls | failed | calls/s | p50 ms | p99 ms | max ms | slow pod's share |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var rows = new List<(string Name, double P99, double Throughput)>();
        for (var i = 0; i < policies.Count; i++)
        {
            var ok = calls[i].Where(c => c.Pod is not null).Select(c => c.Milliseconds).Order().ToArray();
            var throughput = calls[i].Count / elapsed[i];
            var share = calls[i].Count(c => c.Pod == slowIp) / (double)Math.Max(1, calls[i].Count);
            rows.Add((policies[i].Name, P(ok, 99), throughput));
            Console.WriteLine($"| {policies[i].Name} | {calls[i].Count:N0} | {calls[i].Count(c => c.Pod is null)} | {throughput:N0} | {P(ok, 50):0.00} | {P(ok, 99):0.00} | {(ok.Length > 0 ? ok[^1] : double.NaN):0.0} | {share:P1} |");
        }

        foreach (var e in errors.SelectMany((list, i) => list.Take(3).Select(x => $"{policies[i].Name}: {x}"))) Console.WriteLine($"- error: {e}");
        Console.WriteLine();
        var rr = rows[0];
        Console.WriteLine(slow
            ? $"Target (slow pod): p99 <= 0.5 x round_robin's ({0.5 * rr.P99:0.00} ms)."
            : $"Target (homogeneous): p99 and calls/s within 5% of round_robin's (p99 <= {1.05 * rr.P99:0.00} ms, calls/s >= {0.95 * rr.Throughput:N0}).");
        Console.WriteLine();
        Console.WriteLine("| policy | measured | met? |");
        Console.WriteLine("|---|---|---|");
        foreach (var row in rows.Skip(1))
        {
            var met = slow ? row.P99 <= 0.5 * rr.P99 : row.P99 <= 1.05 * rr.P99 && row.Throughput >= 0.95 * rr.Throughput;
            var measured = slow
                ? $"p99 {row.P99 / rr.P99:0.00} x round_robin's"
                : $"p99 {row.P99 / rr.P99:0.00} x, calls/s {row.Throughput / rr.Throughput:0.00} x round_robin's";
            Console.WriteLine($"| {row.Name} | {measured} | {(met ? "met" : "NOT met")} |");
        }

        Console.WriteLine();
    }

    pods.ResetDelays();
}

// 2. All fast, then the slow pod turns slow halfway: how long until each policy sends it less than half its fair share.
async Task SlowHalfwayAsync()
{
    var fair = 1.0 / ips.Length;
    var window = TimeSpan.FromMilliseconds(500);
    Console.WriteLine($"## Pod turns slow halfway: {o.HalfwayDuration.TotalSeconds:0} s per policy, {slowIp} +{o.SlowMs} ms after {o.HalfwayDuration.TotalSeconds / 2:0} s");
    Console.WriteLine();
    Console.WriteLine($"Time from the switch until the slow pod's share of the calls started in a sliding {window.TotalMilliseconds:0} ms window (stepped by 10 ms, may reach back before the switch) first falls below {fair / 2:P0} (half its fair share), and its share over the whole slow half and its last 2 s.");
    Console.WriteLine();
    Console.WriteLine("| policy | time to < half fair share | share, slow half | share, last 2 s | calls |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var policy in Compared())
    {
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] slow halfway: {policy.Name}");
        pods.ResetDelays();
        using var channel = await policy.OpenAsync(ips, pods.Port);
        await WarmAsync(channel);
        var load = new CallLoad(channel.CreateCallInvoker(), o.Callers);
        await Task.Delay(o.HalfwayDuration / 2);
        var switchAt = Stopwatch.GetTimestamp();
        pods.DelayOf(slowIp).Value = TimeSpan.FromMilliseconds(o.SlowMs);
        await Task.Delay(o.HalfwayDuration / 2);
        var end = Stopwatch.GetTimestamp();
        await load.DisposeAsync();
        var calls = load.Calls.Where(c => c.Start < end).OrderBy(c => c.Start).ToArray();
        var after = calls.Where(c => c.Start >= switchAt).ToArray();
        var last = calls.Where(c => c.Start >= end - (2 * Stopwatch.Frequency)).ToArray();
        string? reached = null;
        var windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
        for (var t = switchAt; t <= end; t += Stopwatch.Frequency / 100)
        {
            var inWindow = calls.Where(c => c.Start > t - windowTicks && c.Start <= t).ToArray();
            if (inWindow.Length == 0) continue;
            if (inWindow.Count(c => c.Pod == slowIp) / (double)inWindow.Length < fair / 2)
            {
                reached = $"{Stopwatch.GetElapsedTime(switchAt, t).TotalMilliseconds:0} ms";
                break;
            }
        }

        Console.WriteLine($"| {policy.Name} | {reached ?? "never"} | {Share(after):P1} | {Share(last):P1} | {calls.Length:N0} |");
    }

    Console.WriteLine();
    pods.ResetDelays();
    double Share(CallRecord[] calls) => calls.Count(c => c.Pod == slowIp) / (double)Math.Max(1, calls.Length);
}

// 3. Four pods under steady load, a fifth inserted: its calls per second over its first seconds, per policy with and
// without slow start.
async Task SlowStartAsync()
{
    var seconds = 12;
    var configs = PolicyUnderTest.WithSlowStart(o.SlowStartWindow);
    var first = ips[..^1];
    var added = ips[^1];
    var perSecond = new List<(int Calls, int All)[]>();
    foreach (var policy in configs)
    {
        Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] slow start: {policy.Name}");
        pods.ResetDelays();
        using var channel = await policy.OpenAsync(first, pods.Port);
        await WarmAsync(channel);
        var load = new CallLoad(channel.CreateCallInvoker(), o.Callers);
        await Task.Delay(1000);
        var insertAt = Stopwatch.GetTimestamp();
        channel.Updates.OnNext(Change.Insert(new BalancerAddress(added, pods.Port)));
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await load.DisposeAsync();
        var buckets = new (int Calls, int All)[seconds];
        foreach (var call in load.Calls)
        {
            var s = (int)Math.Floor(Stopwatch.GetElapsedTime(insertAt, call.End).TotalSeconds);
            if (call.End < insertAt || s >= seconds) continue;
            buckets[s].All++;
            if (call.Pod == added) buckets[s].Calls++;
        }

        perSecond.Add(buckets);
    }

    Console.WriteLine($"## A fifth pod joins 4 pods under load: its calls per second (its share of all calls), slow start window {o.SlowStartWindow.TotalSeconds:0} s");
    Console.WriteLine();
    Console.WriteLine($"Second 1 is the first second after `Change.Insert` (connection included). Fair share: 20%. Slow start (`SlowStartOptions {{ Enabled = true, Window = {o.SlowStartWindow.TotalSeconds:0} s }}`, linear, min weight 10%) does not apply to grpc-dotnet's round_robin.");
    Console.WriteLine();
    Console.WriteLine("| second | " + string.Join(" | ", configs.Select(c => c.Name)) + " |");
    Console.WriteLine("|---|" + string.Concat(configs.Select(_ => "---|")));
    for (var s = 0; s < seconds; s++)
    {
        Console.WriteLine($"| {s + 1} | " + string.Join(" | ", perSecond.Select(b => $"{b[s].Calls:N0} ({b[s].Calls / (double)Math.Max(1, b[s].All):P0})")) + " |");
    }

    Console.WriteLine();
}

IReadOnlyList<PolicyUnderTest> Compared() => o.Diagnostic ? [.. PolicyUnderTest.All, .. PolicyUnderTest.Diagnostic] : PolicyUnderTest.All;

// Calls for a second (every subchannel connects and every pod answers before the clock starts).
async Task WarmAsync(BalancedChannel channel)
{
    var load = new CallLoad(channel.CreateCallInvoker(), o.Callers);
    await Task.Delay(1000);
    await load.DisposeAsync();
}

static double P(double[] sorted, double percentile)
{
    if (sorted.Length == 0) return double.NaN;
    var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
    return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
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

/// <summary>Command line: the modes (none given: all three) and their settings.</summary>
internal sealed record Options(bool SlowPod, bool SlowHalfway, bool SlowStart, bool Diagnostic, TimeSpan Duration, int Rounds, int Callers, int SlowMs, TimeSpan HalfwayDuration, TimeSpan SlowStartWindow)
{
    public static Options? Parse(string[] args)
    {
        var slowPod = args.Contains("--slow-pod");
        var halfway = args.Contains("--slow-halfway");
        var slowStart = args.Contains("--slow-start");
        if (!slowPod && !halfway && !slowStart) slowPod = halfway = slowStart = true;
        try
        {
            return new Options(
                slowPod,
                halfway,
                slowStart,
                args.Contains("--diagnostic"),
                TimeSpan.FromSeconds(Number("--duration", 15)),
                (int)Number("--rounds", 3),
                (int)Number("--callers", 8),
                (int)Number("--slow-ms", 50),
                TimeSpan.FromSeconds(Number("--halfway-duration", 10)),
                TimeSpan.FromSeconds(Number("--slow-start-window", 10)));
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine("usage: [--slow-pod] [--slow-halfway] [--slow-start] [--diagnostic] [--duration S=15] [--rounds N=3] [--callers N=8] [--slow-ms MS=50] [--halfway-duration S=10] [--slow-start-window S=10]");
            return null;
        }

        double Number(string name, double fallback)
        {
            var at = Array.IndexOf(args, name);
            if (at < 0) return fallback;
            if (at + 1 >= args.Length || !double.TryParse(args[at + 1], CultureInfo.InvariantCulture, out var value) || value <= 0) throw new FormatException($"{name} needs a positive number");
            return value;
        }
    }
}
