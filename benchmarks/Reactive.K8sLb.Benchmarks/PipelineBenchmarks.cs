using Reactive.K8sLb.Linq;
using System.Net;
using System.Reactive.Subjects;
using BenchmarkDotNet.Attributes;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// One slice event through the public operator: <c>Subject&lt;SliceEvent&gt;</c> -> <c>ToEndpointChanges</c>
/// (Debounce = 0, so changes pass straight through) -> a subscriber, against the bare tracker as the baseline.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private readonly Subject<SliceEvent> _source = new();
    private readonly CountingObserver _observer = new();
    private IDisposable _subscription = null!;
    private EndpointSetTracker _tracker = null!;
    private V1EndpointSlice _ready = null!;
    private V1EndpointSlice _oneNotReady = null!;
    private bool _toggle;

    [Params(10_000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var slices = ServiceModel.AllReady(Endpoints);
        var last = slices.Length - 1;
        _ready = slices[last];
        _oneNotReady = ServiceModel.WithOneNotReady(Endpoints, last, last * ServiceModel.EndpointsPerSlice);

        var config = new DiscoveryConfig(ServiceModel.ServiceName, ServicePort.FromName(ServiceModel.PortName))
        {
            Namespace = ServiceModel.Namespace,
            Debounce = TimeSpan.Zero,
        };
        _subscription = _source.ToEndpointChanges(config).Subscribe(_observer);
        _source.OnNext(SliceEvent.Reset(slices));

        _tracker = new EndpointSetTracker(config, NullLogger.Instance);
        _tracker.Apply(SliceEvent.Reset(slices));
        if (_observer.Count != Endpoints) throw new InvalidOperationException($"Expected {Endpoints} inserts, saw {_observer.Count}.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _subscription.Dispose();
        _source.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int TrackerOnly() => _tracker.Apply(SliceEvent.Upserted(Next())).Count;

    [Benchmark]
    public int ToEndpointChanges_OnNext()
    {
        _source.OnNext(SliceEvent.Upserted(Next()));
        return _observer.Count;
    }

    private V1EndpointSlice Next() => (_toggle = !_toggle) ? _oneNotReady : _ready;

    private sealed class CountingObserver : IObserver<Change<EndPoint>>
    {
        public int Count { get; private set; }

        public void OnNext(Change<EndPoint> value) => Count++;

        public void OnError(Exception error) => throw new InvalidOperationException("The pipeline failed.", error);

        public void OnCompleted()
        {
        }
    }
}
