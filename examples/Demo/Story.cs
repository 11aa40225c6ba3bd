using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using Reactive.K8sLb.Testing;

namespace Demo;

/// <summary>One measured change: what was done, when, and which pods it added to or removed from the endpoint set.</summary>
internal sealed record StepRecord(string Label, long Started, IReadOnlyList<string> Added, IReadOnlyList<string> Removed);

/// <summary>The pod made to fail every call while still ready: when its fault was switched on and off (Stopwatch ticks).</summary>
internal sealed record FaultRecord(string Pod, string Ip, long Started, long Ended);

/// <summary>The slow pod's step: its share of the calls served before it turned slow and while it was slow.</summary>
internal sealed record SlowPodRecord(string Pod, double Before, double WhileSlow, double FairShare);

/// <summary>
/// The scripted story played against the emulator: scale out, rolling update, a pod going not-ready and back, a pod
/// failing every call while still ready (ejected by the balancer, then readmitted), an API outage (dropped watch + 410
/// Gone + a 503 period) and a scale-in. Steps are spread over the run's duration; the failing pod's step adds about
/// the ejection time.
/// </summary>
internal sealed class Story(
    KubernetesApiEmulator emulator,
    EmulatedService service,
    PodServers servers,
    DemoMetrics metrics,
    TimeSpan ejectionTime,
    Action<string> log)
{
    // How long the failing pod may fail before the story gives up waiting for its ejection, and how long after its
    // ejection time the readmission may come (the readmission timer runs on the thread pool).
    private static readonly TimeSpan EjectionWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReadmissionGrace = TimeSpan.FromSeconds(5);

    private readonly ConcurrentQueue<WatchEventWritten> _events = new();
    private readonly List<StepRecord> _steps = [];
    /// <summary>How slow the slow pod's calls are (the issue's benchmark: one pod with 50 ms added latency).</summary>
    private static readonly TimeSpan SlowPodDelay = TimeSpan.FromMilliseconds(50);

    private static readonly string[] Zones = ["zone-a", "zone-b", "zone-c"];

    private readonly Dictionary<string, string> _ipByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _zoneByName = new(StringComparer.Ordinal);

    public string Current { get; private set; } = "starting";

    public IReadOnlyList<StepRecord> Steps
    {
        get
        {
            lock (_steps) return [.. _steps];
        }
    }

    /// <summary>Every pod started so far, by name, with its IP.</summary>
    public IReadOnlyDictionary<string, string> Pods
    {
        get
        {
            lock (_ipByName) return new Dictionary<string, string>(_ipByName, StringComparer.Ordinal);
        }
    }

    public TimeSpan? OutageRecovery { get; private set; }

    /// <summary>The slow pod's step, once played.</summary>
    public SlowPodRecord? SlowPod { get; private set; }

    /// <summary>The failing pod's step, once played.</summary>
    public FaultRecord? Fault { get; private set; }

    public void Attach() => emulator.EventWritten += _events.Enqueue;

    public void Detach() => emulator.EventWritten -= _events.Enqueue;

    /// <summary>Starts the initial pods (servers first, then endpoints), before any client exists.</summary>
    public async Task StartPodsAsync(int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            var (name, ip) = await StartServerAsync(cancellationToken).ConfigureAwait(false);
            service.AddPod(ip, name: name, zone: ZoneOf(name));
        }

        log($"start: {count} pods ready ({string.Join(", ", service.Pods.Select(p => p.Name))})");
    }

    public async Task RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        // Slots: scale out 1, rolling update 2, not-ready 1, outage 1, scale in 1, final observation 1; the failing pod
        // takes about the ejection time plus half a slot.
        var slot = duration / 8;
        await Task.Delay(slot, cancellationToken).ConfigureAwait(false);

        // 1. Scale out by two pods.
        Current = "scale out";
        var newPods = new List<(string Name, string Ip)>();
        for (var i = 0; i < 2; i++) newPods.Add(await StartServerAsync(cancellationToken).ConfigureAwait(false));
        Measure($"scale to {service.Pods.Count + 2}", () => service.Batch(s =>
        {
            foreach (var (name, ip) in newPods) s.AddPod(ip, name: name, zone: ZoneOf(name));
        }), added: [.. newPods.Select(p => p.Name)], removed: []);
        await Task.Delay(slot, cancellationToken).ConfigureAwait(false);

        // 2. Rolling update: a new pod becomes ready, an old one terminates (drains) and is removed, then stopped.
        Current = "rolling update";
        var old = service.Pods.Where(p => p.Ready).ToList();
        var pause = (2 * slot) / (3 * old.Count);
        foreach (var oldPod in old)
        {
            var (name, ip) = await StartServerAsync(cancellationToken).ConfigureAwait(false);
            Measure($"rollout: {name} ready", () => service.AddPod(ip, name: name, zone: ZoneOf(name)), added: [name], removed: []);
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            Measure($"rollout: {oldPod.Name} terminating", () => service.SetTerminating(oldPod.Ip), added: [], removed: [oldPod.Name]);
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            service.RemovePod(oldPod.Ip);
            log($"rollout: {oldPod.Name} removed from the slice; stopping its server");
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            await servers.StopAsync(oldPod.Name).ConfigureAwait(false);
        }

        // 3. A pod fails its readiness probe, then recovers.
        Current = "pod not ready";
        var flaky = service.Pods[0];
        Measure($"{flaky.Name} not ready", () => service.SetReady(flaky.Ip, false), added: [], removed: [flaky.Name]);
        await Task.Delay(slot / 2, cancellationToken).ConfigureAwait(false);
        Measure($"{flaky.Name} ready again", () => service.SetReady(flaky.Ip, true), added: [flaky.Name], removed: []);
        await Task.Delay(slot / 2, cancellationToken).ConfigureAwait(false);

        // 3b. A pod turns slow (50 ms per call) while staying ready and answering: load-aware policies send it less.
        Current = "pod slow";
        await SlowOnePodAsync(slot / 2, cancellationToken).ConfigureAwait(false);

        // 4. A pod fails every call while Kubernetes still lists it ready.
        Current = "pod failing";
        await FailOnePodAsync(slot, cancellationToken).ConfigureAwait(false);

        // 5. API outage: the watch is dropped, the resume gets 410 Gone, and the API answers 503 for a while.
        Current = "API outage";
        log("outage: watch dropped, resourceVersion expired (410), API returns 503; calls keep using the last known pods");
        emulator.ExpireNextWatch();
        using (emulator.FailRequests(503, "the server is currently unable to handle the request"))
        {
            emulator.DropAllWatches();
            await Task.Delay(slot / 2, cancellationToken).ConfigureAwait(false);
        }

        var recovered = Stopwatch.GetTimestamp();
        log("outage over: API answers again");
        try
        {
            await emulator.WaitForOpenWatchesAsync(1, slot / 2).ConfigureAwait(false);
            OutageRecovery = Stopwatch.GetElapsedTime(recovered);
            log($"outage over: watch re-established after {OutageRecovery.Value.TotalMilliseconds:F0} ms (backoff + relist)");
        }
        catch (TimeoutException)
        {
            log("outage over: watch not yet re-established (still backing off)");
        }

        var rest = (slot / 2) - Stopwatch.GetElapsedTime(recovered);
        if (rest > TimeSpan.Zero) await Task.Delay(rest, cancellationToken).ConfigureAwait(false);

        // 6. Scale in to two pods; their servers stop once the endpoints are gone.
        Current = "scale in";
        var keep = service.Pods.TakeLast(2).Select(p => p.Ip).ToHashSet(StringComparer.Ordinal);
        var gone = service.Pods.Where(p => !keep.Contains(p.Ip)).ToList();
        Measure("scale to 2", () => service.Batch(s =>
        {
            foreach (var pod in gone) s.RemovePod(pod.Ip);
        }), added: [], removed: [.. gone.Select(p => p.Name)]);
        await Task.Delay(slot / 2, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(gone.Select(p => servers.StopAsync(p.Name))).ConfigureAwait(false);
        log($"scale in: stopped {string.Join(", ", gone.Select(p => p.Name))}");
        await Task.Delay(slot / 2, cancellationToken).ConfigureAwait(false);

        Current = "steady";
        await Task.Delay(slot, cancellationToken).ConfigureAwait(false);
        Current = "done";
    }

    /// <summary>The share of the calls served in [<paramref name="from"/>, <paramref name="to"/>) that one pod served.</summary>
    private double ShareOf(string name, long from, long to)
    {
        long Count(string pod) => servers.Served(pod).Count(t => t >= from && t < to);
        var total = service.Pods.Sum(p => Count(p.Name));
        return total == 0 ? 0 : (double)Count(name) / total;
    }

    /// <summary>
    /// One ready pod becomes slow for the step and fast again: its share of calls before and while slow shows whether
    /// the policy looks at load (round robin keeps sending it its full share; least_request and peak_ewma do not).
    /// </summary>
    private async Task SlowOnePodAsync(TimeSpan step, CancellationToken cancellationToken)
    {
        var pod = service.Pods.First(p => p.Ready && !p.Terminating);
        var before = Stopwatch.GetTimestamp();
        await Task.Delay(step / 4, cancellationToken).ConfigureAwait(false);
        var slowFrom = Stopwatch.GetTimestamp();
        servers.SetDelay(pod.Name, SlowPodDelay);
        log($"{pod.Name} turns slow: +{SlowPodDelay.TotalMilliseconds:0} ms per call, still ready and answering");
        await Task.Delay(step * 3 / 4, cancellationToken).ConfigureAwait(false);
        var slowTo = Stopwatch.GetTimestamp();
        servers.SetDelay(pod.Name, null);
        var ready = service.Pods.Count(p => p.Ready && !p.Terminating);
        SlowPod = new SlowPodRecord(pod.Name, ShareOf(pod.Name, before, slowFrom), ShareOf(pod.Name, slowFrom, slowTo), 1.0 / Math.Max(1, ready));
        log(string.Create(CultureInfo.InvariantCulture, $"{pod.Name} fast again; its share of calls: {SlowPod.Before:P0} before, {SlowPod.WhileSlow:P0} while slow (fair share {SlowPod.FairShare:P0})"));
    }

    /// <summary>
    /// One ready pod answers every call with Unavailable; its endpoint stays ready in the slice, so only the balancer's
    /// outlier ejection can take it out. The pod recovers halfway through its ejection, so that the readmission finds
    /// it healthy; the step ends a while after the readmission, once calls reach the pod again.
    /// </summary>
    private async Task FailOnePodAsync(TimeSpan slot, CancellationToken cancellationToken)
    {
        var pod = service.Pods.Last(p => p.Ready && !p.Terminating);
        var ejections = metrics.EjectionsOf(pod.Ip, servers.Port).Count;
        var readmissions = metrics.ReadmissionsOf(pod.Ip, servers.Port).Count;
        var started = Stopwatch.GetTimestamp();
        servers.SetFailing(pod.Name, true);
        log($"{pod.Name} fails every call (Unavailable) while Kubernetes still lists it ready; ejection time {ejectionTime.TotalSeconds:0.#} s (--ejection-time)");
        var ejected = await UntilAsync(() => metrics.EjectionsOf(pod.Ip, servers.Port).Count > ejections, EjectionWait, cancellationToken).ConfigureAwait(false);
        if (ejected)
        {
            log($"{pod.Name} ejected after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: no calls until readmitted");
            await Task.Delay(ejectionTime / 2, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            log($"{pod.Name} not ejected within {EjectionWait.TotalSeconds} s");
        }

        servers.SetFailing(pod.Name, false);
        Fault = new FaultRecord(pod.Name, pod.Ip, started, Stopwatch.GetTimestamp());
        log($"{pod.Name} recovered (answers again)");
        if (ejected)
        {
            var readmitted = await UntilAsync(() => metrics.ReadmissionsOf(pod.Ip, servers.Port).Count > readmissions, ejectionTime + ReadmissionGrace, cancellationToken).ConfigureAwait(false);
            log(readmitted ? $"{pod.Name} readmitted: calls reach it again" : $"{pod.Name} not readmitted yet");
        }

        await Task.Delay(slot / 2, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms; false when <paramref name="timeout"/> passed first.</summary>
    private static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > timeout) return false;
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>The emulator's first watch event (not a bookmark) written at or after <paramref name="from"/>.</summary>
    public long? FirstEventAfter(long from) =>
        _events.Where(e => e.Timestamp >= from && e.EventType != WatchEventType.Bookmark)
            .Select(e => (long?)e.Timestamp)
            .Min();

    /// <summary>The zone a pod was started in: zone-a, zone-b, zone-c in turn, as a Deployment spread over three zones.</summary>
    public string ZoneOf(string name)
    {
        lock (_ipByName) return _zoneByName.GetValueOrDefault(name, "-");
    }

    private async Task<(string Name, string Ip)> StartServerAsync(CancellationToken cancellationToken)
    {
        var pod = await servers.StartNextAsync(cancellationToken).ConfigureAwait(false);
        lock (_ipByName)
        {
            _ipByName[pod.Name] = pod.Ip;
            _zoneByName[pod.Name] = Zones[(_ipByName.Count - 1) % Zones.Length];
        }

        return pod;
    }

    private void Measure(string label, Action change, IReadOnlyList<string> added, IReadOnlyList<string> removed)
    {
        var started = Stopwatch.GetTimestamp();
        change();
        lock (_steps) _steps.Add(new StepRecord(label, started, added, removed));
        log(label);
    }
}
