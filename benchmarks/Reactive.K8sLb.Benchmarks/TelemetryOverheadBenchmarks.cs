using System.Diagnostics.Metrics;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Subjects;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Linq;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// What the metrics cost per endpoint change, side by side in one run: the same work with no listener and with a
/// <see cref="MeterListener"/> attached to every instrument of the library's meter (aggregating like an exporter:
/// a sum per instrument). Two depths of the <c>OneEndpointChanged</c> scenario (one endpoint of the last slice flips
/// ready/not ready, 10,000 endpoints, as in <see cref="TrackerBenchmarks"/>):
/// <list type="bullet">
/// <item><c>OneEndpointChanged</c>: the diffing core (tracker), which now also keeps the endpoint counts;</item>
/// <item><c>OneEndpointChanged_ToChannel</c>: the whole path a watch event takes to the channel: pipeline (Debounce 0)
/// -> applier (build) -> resolver, whose publish runs inline here (a scheduler that runs work at once, so the
/// publish, its instruments and the listener call are inside the measured operation).</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class TelemetryOverheadBenchmarks
{
    private readonly Subject<SliceEvent> _source = new();
    private readonly CompositeDisposable _disposables = [];
    private EndpointSetTracker _tracker = null!;
    private V1EndpointSliceFlip _flip = null!;
    private MeterListener? _listener;
    private bool _toggle;
    private bool _trackerToggle;
    private long _published;

    [Params(10_000)]
    public int Endpoints { get; set; }

    /// <summary>Whether a listener is attached to every instrument of the meter.</summary>
    [Params(false, true)]
    public bool Listening { get; set; }

    /// <summary>Sum of every measurement the listener saw (kept so the work cannot be optimised away).</summary>
    public double Aggregated { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listening)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == K8sLbTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Aggregated += value);
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Aggregated += value);
            _listener.Start();
        }

        var slices = ServiceModel.AllReady(Endpoints);
        var last = slices.Length - 1;
        _flip = new V1EndpointSliceFlip(slices[last], ServiceModel.WithOneNotReady(Endpoints, last, last * ServiceModel.EndpointsPerSlice));

        _tracker = new EndpointSetTracker(ServiceModel.Config, NullLogger.Instance);
        _tracker.Apply(SliceEvent.Reset(slices));

        var config = new DiscoveryConfig(ServiceModel.ServiceName, ServicePort.FromName(ServiceModel.PortName))
        {
            Namespace = ServiceModel.Namespace,
            Debounce = TimeSpan.Zero,
        };
        var resolver = new ChangeSinkResolver(
            "k8s:///bench",
            InlineScheduler.Instance,
            serviceConfig: null,
            NullLoggerFactory.Instance,
            connect: r => DiscoveryApplier.DiscoverCore(_source.ToEndpointChanges(config), new ChangeSink(r), BalancerAddresses.Default, NullLoggerFactory.Instance));
        _disposables.Add(resolver);
        resolver.Start(result => _published += result.Addresses?.Count ?? 0);
        _source.OnNext(SliceEvent.Reset(slices));
        if (_published != Endpoints) throw new InvalidOperationException($"Expected {Endpoints} addresses published, saw {_published}.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _disposables.Dispose();
        _source.Dispose();
        _listener?.Dispose();
    }

    [BenchmarkCategory("OneEndpointChanged"), Benchmark]
    public int OneEndpointChanged() => _tracker.Apply(SliceEvent.Upserted(_flip.Next(ref _trackerToggle))).Count;

    [BenchmarkCategory("OneEndpointChanged_ToChannel"), Benchmark]
    public long OneEndpointChanged_ToChannel()
    {
        _source.OnNext(SliceEvent.Upserted(_flip.Next(ref _toggle)));
        return _published;
    }

    /// <summary>Runs work at once on the calling thread. Not <c>ImmediateScheduler</c>, which the resolver refuses
    /// (rightly, in a channel); a benchmark has no channel lock to deadlock on.</summary>
    private sealed class InlineScheduler : LocalScheduler
    {
        public static InlineScheduler Instance { get; } = new();

        public override IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
        {
            if (dueTime > TimeSpan.Zero) return Disposable.Empty; // only the first-snapshot timer is delayed: never due here
            return action(this, state);
        }
    }
}
