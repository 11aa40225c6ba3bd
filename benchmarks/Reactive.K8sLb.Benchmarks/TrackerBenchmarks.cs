using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// The diffing core (<see cref="EndpointSetTracker"/>: projection + reference counting + diff) against the naive
/// recompute-everything baseline, per scenario. Every input object is built in GlobalSetup, so only the work of the
/// implementation under test is measured.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class TrackerBenchmarks
{
    private const string OneChanged = "OneEndpointChanged";
    private const string Initial = "InitialSync";
    private const string Relist = "RelistOnePercentChanged";

    private EndpointSetTracker _tracker = null!;
    private NaiveRecomputeDiff _naive = null!;
    private V1EndpointSliceFlip _flip = null!;
    private SliceEvent _allReady = null!;
    private SliceEvent _onePercentNotReady = null!;
    private bool _toggle;

    /// <summary>Endpoints in the Service, 100 per slice.</summary>
    [Params(10, 1_000, 10_000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var slices = ServiceModel.AllReady(Endpoints);
        _allReady = SliceEvent.Reset(slices);

        // 1% of the endpoints (at least one) flip to not ready: endpoint 0 of each of the first n/100 slices.
        var flipped = Math.Max(1, Endpoints / 100);
        _onePercentNotReady = SliceEvent.Reset(ServiceModel.Build(
            Endpoints, i => i % ServiceModel.EndpointsPerSlice == 0 && i / ServiceModel.EndpointsPerSlice < flipped));

        // The changed slice is the last one, so a dictionary walk cannot get lucky by finding it first.
        var last = slices.Length - 1;
        var endpoint = last * ServiceModel.EndpointsPerSlice;
        _flip = new V1EndpointSliceFlip(slices[last], ServiceModel.WithOneNotReady(Endpoints, last, endpoint));

        _tracker = new EndpointSetTracker(ServiceModel.Config, NullLogger.Instance);
        _naive = new NaiveRecomputeDiff(ServiceModel.PortName);
        Sync();
    }

    // Every benchmark of a category leaves the state it found (or its alternate), so both stay synchronized.
    private void Sync()
    {
        _tracker.Apply(_allReady);
        _naive.Apply(_allReady);
        _toggle = false;
    }

    [BenchmarkCategory(OneChanged), Benchmark(Baseline = true)]
    public int OneEndpointChanged_Naive() => _naive.Apply(SliceEvent.Upserted(_flip.Next(ref _toggle))).Count;

    [BenchmarkCategory(OneChanged), Benchmark]
    public int OneEndpointChanged() => _tracker.Apply(SliceEvent.Upserted(_flip.Next(ref _toggle))).Count;

    [BenchmarkCategory(Initial), Benchmark(Baseline = true)]
    public int InitialSync_Naive() => new NaiveRecomputeDiff(ServiceModel.PortName).Apply(_allReady).Count;

    [BenchmarkCategory(Initial), Benchmark]
    public int InitialSync() => new EndpointSetTracker(ServiceModel.Config, NullLogger.Instance).Apply(_allReady).Count;

    [BenchmarkCategory(Relist), Benchmark(Baseline = true)]
    public int RelistOnePercentChanged_Naive() => _naive.Apply(NextSnapshot()).Count;

    [BenchmarkCategory(Relist), Benchmark]
    public int RelistOnePercentChanged() => _tracker.Apply(NextSnapshot()).Count;

    private SliceEvent NextSnapshot() => (_toggle = !_toggle) ? _onePercentNotReady : _allReady;
}

/// <summary>Two prepared versions of one slice, handed out alternately.</summary>
internal sealed class V1EndpointSliceFlip(k8s.Models.V1EndpointSlice ready, k8s.Models.V1EndpointSlice oneNotReady)
{
    public k8s.Models.V1EndpointSlice Next(ref bool toggle) => (toggle = !toggle) ? oneNotReady : ready;
}
