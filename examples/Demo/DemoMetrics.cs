using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Reactive.K8sLb;

namespace Demo;

/// <summary>
/// Reads the library's own instruments (meter <see cref="K8sLbTelemetry.MeterName"/>) the way an OpenTelemetry
/// exporter would, for the dashboard and the summary: endpoints by state, discovery health, the delay from a watch
/// event to the channel's address update, resolver updates, API requests by outcome, calls picked per endpoint, and
/// outlier ejection: when each endpoint was ejected (and why) and readmitted, time-stamped (Stopwatch ticks) as the
/// counters are incremented, and the endpoints ejected now. Only this demo's Service is read (the meter is process-wide).
/// </summary>
internal sealed class DemoMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _service;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, long> _picks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _localityPicks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<EjectionEvent>> _ejections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<long>> _readmissions = new(StringComparer.Ordinal);
    private readonly List<double> _delays = [];
    private readonly Dictionary<string, long> _gauges = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _latency = new(StringComparer.Ordinal);
    private long _updates;

    public DemoMetrics(string service)
    {
        _service = service;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == K8sLbTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Calls the balancer picked per endpoint address (<c>k8slb.endpoint.picks</c>).</summary>
    public long PicksFor(string address, int port) =>
        _picks.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"{address}:{port}"), out var picks) ? picks : _picks.GetValueOrDefault(address);

    /// <summary>The ejections of an endpoint (<c>k8slb.endpoint.ejections</c>), in order: when and by which rule.</summary>
    public IReadOnlyList<EjectionEvent> EjectionsOf(string address, int port) =>
        _ejections.TryGetValue(Endpoint(address, port), out var events) ? [.. events] : [];

    /// <summary>When an endpoint was readmitted (<c>k8slb.endpoint.readmissions</c>), in order.</summary>
    public IReadOnlyList<long> ReadmissionsOf(string address, int port) =>
        _readmissions.TryGetValue(Endpoint(address, port), out var times) ? [.. times] : [];

    /// <summary>Whether the endpoint is ejected now: more ejections than readmissions counted (read as they happen,
    /// without waiting for the <c>k8slb.endpoints.ejected</c> gauge's next collection).</summary>
    public bool IsEjected(string address, int port) => EjectionsOf(address, port).Count > ReadmissionsOf(address, port).Count;

    /// <summary>The endpoint's outlier-ejection state for the table: <c>ejected</c>, <c>readmitted</c> (ejected before,
    /// receives calls again) or <c>-</c> (never ejected).</summary>
    public string Ejection(string address, int port) =>
        IsEjected(address, port) ? "ejected" : ReadmissionsOf(address, port).Count > 0 ? "readmitted" : "-";

    /// <summary>One line of the live numbers: endpoints by state, health, the last and worst event-to-channel delay.</summary>
    public string Line()
    {
        Refresh();
        lock (_gate)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"metrics: endpoints ready={Gauge("endpoints", "ready")} terminating={Gauge("endpoints", "serving_terminating")} unused={Gauge("unused", null)} ejected={Gauge("ejected", null)} | picks: {LocalityText()} | health={Health()} | resolver updates={_updates}, last event->channel {Last()}");
        }
    }

    /// <summary>The summary's metrics section.</summary>
    public void PrintSummary(TextWriter output)
    {
        Refresh();
        lock (_gate)
        {
            output.WriteLine("metrics (meter Reactive.K8sLb, as an exporter sees them):");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  endpoints: ready {Gauge("endpoints", "ready")}, serving_terminating {Gauge("endpoints", "serving_terminating")}; unused: {UnusedText()}"));
            output.WriteLine($"  discovery health: {Health()}");
            var ejections = _ejections.SelectMany(e => e.Value.Select(v => v.Reason)).GroupBy(r => r, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}").ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  outlier ejection: ejections {(ejections.Length == 0 ? "0" : string.Join(", ", ejections))}; readmissions {_readmissions.Sum(r => r.Value.Count)}; ejected now {Gauge("ejected", null)}"));
            var sorted = _delays.Order().ToArray();
            output.WriteLine(sorted.Length == 0
                ? $"  resolver updates: {_updates}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"  resolver updates: {_updates}; watch event -> channel update: p50 {Percentile(sorted, 0.5):F2} ms, p99 {Percentile(sorted, 0.99):F2} ms, max {sorted[^1]:F2} ms ({sorted.Length} updates)"));
            output.WriteLine($"  API requests: {string.Join(", ", _requests.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}"))}");
            output.WriteLine($"  calls picked by locality (k8slb.locality): {LocalityText()}");
            output.WriteLine($"  calls picked per endpoint: {string.Join(", ", _picks.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}");
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The load a load-aware policy sees on an endpoint (<c>k8slb.endpoint.outstanding_calls</c> and
    /// <c>k8slb.endpoint.latency_estimate</c>, read at the last refresh), or - under round robin.</summary>
    public string LoadOf(string address, int port)
    {
        var key = Endpoint(address, port);
        lock (_gate)
        {
            if (!_latency.TryGetValue(key, out var seconds)) return "-";
            return string.Create(CultureInfo.InvariantCulture, $"{_gauges.GetValueOrDefault("outstanding/" + key)} / {seconds * 1000:F1} ms");
        }
    }

    /// <summary>Picks by <c>k8slb.locality</c>: same_zone, other_zone, unknown, with the same-zone share.</summary>
    public string LocalityText()
    {
        var total = _localityPicks.Values.Sum();
        if (total == 0) return "none";
        var parts = string.Join(", ", _localityPicks.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
        return string.Create(CultureInfo.InvariantCulture, $"{parts} ({100.0 * _localityPicks.GetValueOrDefault("same_zone") / total:F0}% same zone)");
    }

    private void Refresh()
    {
        lock (_gate)
        {
            _gauges.Clear();
            _latency.Clear();
        }

        _listener.RecordObservableInstruments();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var at = System.Diagnostics.Stopwatch.GetTimestamp();
        string? service = null, state = null, reason = null, health = null, address = null, port = null, verb = null, outcome = null, ejection = null, locality = null;
        foreach (var tag in tags)
        {
            var text = tag.Value?.ToString();
            switch (tag.Key)
            {
                case K8sLbTelemetry.ServiceNameTag: service = text; break;
                case "k8slb.endpoint.state": state = text; break;
                case "k8slb.endpoint.unused_reason": reason = text; break;
                case "k8slb.discovery.health": health = text; break;
                case "network.peer.address": address = text; break;
                case "network.peer.port": port = text; break;
                case "k8slb.api.verb": verb = text; break;
                case "k8slb.api.outcome": outcome = text; break;
                case "k8slb.ejection.reason": ejection = text; break;
                case "k8slb.locality": locality = text; break;
            }
        }

        if (service != _service) return;
        switch (instrument.Name)
        {
            case "k8slb.endpoint.picks" when address is not null:
                _picks.AddOrUpdate(port is null ? address : $"{address}:{port}", (long)value, (_, v) => v + (long)value);
                _localityPicks.AddOrUpdate(locality ?? "unknown", (long)value, (_, v) => v + (long)value);
                break;
            case "k8slb.endpoint.ejections" when address is not null:
                _ejections.GetOrAdd(port is null ? address : $"{address}:{port}", _ => new()).Enqueue(new EjectionEvent(at, ejection ?? "?"));
                break;
            case "k8slb.endpoint.readmissions" when address is not null:
                _readmissions.GetOrAdd(port is null ? address : $"{address}:{port}", _ => new()).Enqueue(at);
                break;
            case "k8slb.endpoint.outstanding_calls" when address is not null:
                lock (_gate) _gauges["outstanding/" + address + ":" + port] = (long)value;
                break;
            case "k8slb.endpoint.latency_estimate" when address is not null:
                lock (_gate) _latency[address + ":" + port] = value;
                break;
            case "k8slb.endpoints.ejected":
                lock (_gate) _gauges["ejected/" + address + ":" + port] = _gauges.GetValueOrDefault("ejected/" + address + ":" + port) + (long)value;
                break;
            case "k8slb.api.requests":
                _requests.AddOrUpdate($"{verb} {outcome}", (long)value, (_, v) => v + (long)value);
                break;
            case "k8slb.resolver.updates":
                Interlocked.Add(ref _updates, (long)value);
                break;
            case "k8slb.resolver.update.delay":
                lock (_gate) _delays.Add(value);
                break;
            case "k8slb.discovery.endpoints":
                lock (_gate) _gauges["endpoints/" + state] = _gauges.GetValueOrDefault("endpoints/" + state) + (long)value;
                break;
            case "k8slb.discovery.endpoints.unused":
                lock (_gate) _gauges["unused/" + reason] = _gauges.GetValueOrDefault("unused/" + reason) + (long)value;
                break;
            case "k8slb.discovery.status":
                lock (_gate) _gauges["health/" + health] = _gauges.GetValueOrDefault("health/" + health) + (long)value;
                break;
        }
    }

    private static string Endpoint(string address, int port) => string.Create(CultureInfo.InvariantCulture, $"{address}:{port}");

    private long Gauge(string name, string? tag) =>
        tag is null ? _gauges.Where(g => g.Key.StartsWith(name + "/", StringComparison.Ordinal)).Sum(g => g.Value) : _gauges.GetValueOrDefault(name + "/" + tag);

    private string UnusedText()
    {
        var reasons = _gauges.Where(g => g.Key.StartsWith("unused/", StringComparison.Ordinal) && g.Value > 0).Select(g => $"{g.Key[7..]} {g.Value}").ToArray();
        return reasons.Length == 0 ? "none" : string.Join(", ", reasons);
    }

    private string Health()
    {
        var states = _gauges.Where(g => g.Key.StartsWith("health/", StringComparison.Ordinal) && g.Value > 0).Select(g => g.Key[7..]).ToArray();
        return states.Length == 0 ? "-" : string.Join("+", states);
    }

    private string Last() =>
        _delays.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{_delays[^1]:F2} ms");

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>An ejection of an endpoint: when the counter was incremented (Stopwatch ticks; the endpoint was already out
/// of the picker then) and by which rule (<c>k8slb.ejection.reason</c>).</summary>
internal readonly record struct EjectionEvent(long At, string Reason);
