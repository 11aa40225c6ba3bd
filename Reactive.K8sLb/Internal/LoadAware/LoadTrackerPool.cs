using System.Collections.Concurrent;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal.LoadAware;

/// <summary>
/// The pick results of one endpoint under a load-aware policy, each with its own call tracker (a call's latency needs
/// its start time), reused: a tracker goes back to the pool when its call completes, so a pick allocates nothing once
/// the pool holds as many trackers as the endpoint has calls in flight. grpc-dotnet starts and completes exactly the
/// picks it uses (its <c>BalancerHttpHandler</c> completes the tracker at the response headers or the transport
/// error); a pick it drops unstarted (its subchannel turned out unusable) is simply not returned.
/// </summary>
internal sealed class LoadTrackerPool
{
    private readonly ConcurrentQueue<CallLoadTracker> _free = new();
    private readonly BalancerInstruments.Endpoint _endpoint;
    private readonly EndpointLoad _load;
    private readonly Func<long>? _clock;

    /// <param name="endpoint">The endpoint (its outcome and call counting happen in the same tracker).</param>
    /// <param name="load">Its load.</param>
    /// <param name="clock">The time, in <see cref="TimeSpan"/> ticks, to measure latencies (<c>peak_ewma</c>);
    /// <see langword="null"/> to count calls in flight only (<c>least_request</c>: no clock read per call).</param>
    public LoadTrackerPool(BalancerInstruments.Endpoint endpoint, EndpointLoad load, Func<long>? clock)
    {
        _endpoint = endpoint;
        _load = load;
        _clock = clock;
    }

    /// <summary>A pick of the endpoint whose tracker measures the call.</summary>
    /// <param name="now">The pick's time, when the picker read the clock: grpc-dotnet starts the call on the same thread
    /// right after the pick, so it serves as the start and saves a clock read; 0 to read the clock at the start.</param>
    public PickResult Rent(long now = 0)
    {
        var tracker = _free.TryDequeue(out var free) ? free : new CallLoadTracker(this);
        tracker.PickedAt = now;
        return tracker.Result;
    }

    private sealed class CallLoadTracker : ISubchannelCallTracker
    {
        private readonly LoadTrackerPool _pool;
        private long _started;

        /// <summary>The pick's time, or 0 (see <see cref="Rent"/>).</summary>
        public long PickedAt { get; set; }

        public CallLoadTracker(LoadTrackerPool pool)
        {
            _pool = pool;
            Result = PickResult.ForSubchannel(pool._endpoint.Subchannel, this);
        }

        public PickResult Result { get; }

        public void Start()
        {
            if (_pool._clock is { } clock) _started = PickedAt != 0 ? PickedAt : clock();
            _pool._load.Started();
            _pool._endpoint.OnCallStarted();
        }

        public void Complete(CompletionContext context)
        {
            if (_pool._clock is { } clock)
            {
                var now = clock();
                _pool._load.Completed(now - _started, now, failed: context.Error is not null);
            }
            else
            {
                _pool._load.Completed();
            }

            _pool._endpoint.OnCallCompleted(context.Error);
            _pool._free.Enqueue(this);
        }
    }
}
