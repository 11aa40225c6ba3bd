using System.Collections.Concurrent;
using System.Diagnostics;
using k8s;
using Reactive.K8sLb.Testing;

namespace Demo;

/// <summary>One measured change: what was done, when, and which pods it added to or removed from the endpoint set.</summary>
internal sealed record StepRecord(string Label, long Started, IReadOnlyList<string> Added, IReadOnlyList<string> Removed);

/// <summary>
/// The scripted story played against the emulator: scale out, rolling update, a pod going not-ready and back, an API
/// outage (dropped watch + 410 Gone + a 503 period) and a scale-in. Steps are spread over the run's duration.
/// </summary>
internal sealed class Story(
    KubernetesApiEmulator emulator,
    EmulatedService service,
    PodServers servers,
    Action<string> log)
{
    private readonly ConcurrentQueue<WatchEventWritten> _events = new();
    private readonly List<StepRecord> _steps = [];
    private readonly Dictionary<string, string> _ipByName = new(StringComparer.Ordinal);

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

    public void Attach() => emulator.EventWritten += _events.Enqueue;

    public void Detach() => emulator.EventWritten -= _events.Enqueue;

    /// <summary>Starts the initial pods (servers first, then endpoints), before any client exists.</summary>
    public async Task StartPodsAsync(int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            var (name, ip) = await StartServerAsync(cancellationToken).ConfigureAwait(false);
            service.AddPod(ip, name: name);
        }

        log($"start: {count} pods ready ({string.Join(", ", service.Pods.Select(p => p.Name))})");
    }

    public async Task RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        // Slots: scale out 1, rolling update 2, not-ready 1, outage 1, scale in 1, final observation 1.
        var slot = duration / 8;
        await Task.Delay(slot, cancellationToken).ConfigureAwait(false);

        // 1. Scale out by two pods.
        Current = "scale out";
        var newPods = new List<(string Name, string Ip)>();
        for (var i = 0; i < 2; i++) newPods.Add(await StartServerAsync(cancellationToken).ConfigureAwait(false));
        Measure($"scale to {service.Pods.Count + 2}", () => service.Batch(s =>
        {
            foreach (var (name, ip) in newPods) s.AddPod(ip, name: name);
        }), added: [.. newPods.Select(p => p.Name)], removed: []);
        await Task.Delay(slot, cancellationToken).ConfigureAwait(false);

        // 2. Rolling update: a new pod becomes ready, an old one terminates (drains) and is removed, then stopped.
        Current = "rolling update";
        var old = service.Pods.Where(p => p.Ready).ToList();
        var pause = (2 * slot) / (3 * old.Count);
        foreach (var oldPod in old)
        {
            var (name, ip) = await StartServerAsync(cancellationToken).ConfigureAwait(false);
            Measure($"rollout: {name} ready", () => service.AddPod(ip, name: name), added: [name], removed: []);
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

        // 4. API outage: the watch is dropped, the resume gets 410 Gone, and the API answers 503 for a while.
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

        // 5. Scale in to two pods; their servers stop once the endpoints are gone.
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

    /// <summary>The emulator's first watch event (not a bookmark) written at or after <paramref name="from"/>.</summary>
    public long? FirstEventAfter(long from) =>
        _events.Where(e => e.Timestamp >= from && e.EventType != WatchEventType.Bookmark)
            .Select(e => (long?)e.Timestamp)
            .Min();

    private async Task<(string Name, string Ip)> StartServerAsync(CancellationToken cancellationToken)
    {
        var pod = await servers.StartNextAsync(cancellationToken).ConfigureAwait(false);
        lock (_ipByName) _ipByName[pod.Name] = pod.Ip;
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
