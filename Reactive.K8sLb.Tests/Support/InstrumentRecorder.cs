using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>
/// Records every measurement of the library's meter (<see cref="K8sLbTelemetry.MeterName"/>) while alive. The meter is
/// process-wide and tests run in parallel: filter by a Service name only your test uses (<see cref="ForService"/>).
/// Observable instruments (gauges) are read on demand with <see cref="Observe"/>.
/// </summary>
internal sealed class InstrumentRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _measurements = new();

    public InstrumentRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == K8sLbTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    public IReadOnlyCollection<Recorded> All => _measurements.ToArray();

    /// <summary>Every measurement of <paramref name="instrument"/> tagged with <paramref name="service"/>.</summary>
    public IReadOnlyList<Recorded> ForService(string instrument, string service) =>
        _measurements.Where(m => m.Instrument == instrument && Equals(m.Tag(K8sLbTelemetry.ServiceNameTag), service)).ToList();

    /// <summary>The sum of the counter's measurements for the Service whose tags match <paramref name="tags"/>.</summary>
    public double Sum(string instrument, string service, params (string Key, object? Value)[] tags) =>
        ForService(instrument, service).Where(m => m.Matches(tags)).Sum(m => m.Value);

    /// <summary>Reads the observable instruments now; returns the readings of <paramref name="instrument"/> for the Service.</summary>
    public IReadOnlyList<Recorded> Observe(string instrument, string service)
    {
        var before = _measurements.Count;
        _listener.RecordObservableInstruments();
        return _measurements.Skip(before).Where(m => m.Instrument == instrument && Equals(m.Tag(K8sLbTelemetry.ServiceNameTag), service)).ToList();
    }

    /// <summary>The current value of a gauge series (the sum over its readings matching <paramref name="tags"/>).</summary>
    public double Gauge(string instrument, string service, params (string Key, object? Value)[] tags) =>
        Observe(instrument, service).Where(m => m.Matches(tags)).Sum(m => m.Value);

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Enqueue(new Recorded(instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));

    internal sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        public object? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;

        public bool Matches((string Key, object? Value)[] tags) => tags.All(t => Equals(Tag(t.Key), t.Value));

        public override string ToString() => $"{Instrument}={Value} {{{string.Join(", ", Tags.Select(t => $"{t.Key}={t.Value}"))}}}";
    }
}
