using System.Globalization;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Decides which endpoints of one balancer are ejected, following gRFC A50 (outlier detection) with Envoy's
/// consecutive-failure rule added:
/// <list type="bullet">
/// <item>Consecutive failures: an endpoint whose streak reaches <see cref="OutlierPolicy.ConsecutiveFailures"/> is
/// ejected at once (from the thread that recorded the failure).</item>
/// <item>Every <see cref="OutlierPolicy.Interval"/> (A50 "on timer"): the buckets swap (the calls of the interval just
/// ended are judged); the failure-percentage algorithm runs (A50: it stops when fewer than <c>minimum_hosts</c>
/// endpoints had <c>request_volume</c> calls; an endpoint with that volume and a failure percentage above the
/// threshold is ejected); then every admitted endpoint's multiplier decreases by one (A50). Candidates are taken worst
/// first, ties in random order (A50 takes them in address order).</item>
/// <item>An ejection lasts <c>base × multiplier</c>, at most <c>max(base, max)</c>, the multiplier counting the
/// ejections (A50). Unlike A50, which readmits on the next timer tick after the time is up, each ejection schedules its
/// own readmission, so it lasts exactly its time.</item>
/// <item>Before every ejection (A50: "if the percentage of ejected addresses is greater than or equal to
/// max_ejection_percent, stop"): at most <c>max(1, ⌊endpoints × max_ejection_percent / 100⌋)</c> endpoints are
/// ejected (none when the percentage is 0), and an endpoint is ejected only if another ready, non-excluded endpoint
/// remains: calls never lose their last destination (A50 would leave the child policy in TRANSIENT_FAILURE).</item>
/// </list>
/// Its state is guarded by one lock; recording outcomes is lock-free (<see cref="EndpointHealth.Record"/>). It never
/// calls the balancer or the channel: ejection is a flag the picker reads, so no new picker has to be published from a
/// call's thread (which would take grpc-dotnet's channel lock after ours, the reverse of the channel's own order).
/// </summary>
internal sealed class OutlierDetector : IDisposable
{
    private readonly object _lock = new();
    private readonly List<EndpointHealth> _endpoints = [];
    private readonly IScheduler _scheduler;
    private readonly IEjectionObserver _observer;
    private readonly Func<int, int> _random;
    private readonly SingleAssignmentDisposable _timer;
    private bool _disposed;

    /// <summary>Creates the detector and starts its interval timer.</summary>
    /// <param name="policy">The rules.</param>
    /// <param name="scheduler">The clock and timers (virtual time in tests).</param>
    /// <param name="observer">Hears ejections and readmissions.</param>
    /// <param name="random">Picks an index below its argument (ties between equally bad endpoints);
    /// <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    public OutlierDetector(OutlierPolicy policy, IScheduler scheduler, IEjectionObserver observer, Func<int, int>? random = null)
    {
        Policy = policy;
        _scheduler = scheduler;
        _observer = observer;
        _random = random ?? Random.Shared.Next;
        _timer = StartTimer(scheduler, policy.Interval, this);
    }

    public OutlierPolicy Policy { get; }

    /// <summary>How many endpoints are ejected now.</summary>
    public int EjectedCount
    {
        get
        {
            lock (_lock) return _endpoints.Count(e => e.IsEjected);
        }
    }

    /// <summary>Starts judging an endpoint (not ready until <see cref="SetReady"/> says so).</summary>
    public EndpointHealth Add(string name, object? owner = null)
    {
        var endpoint = new EndpointHealth(name, this, owner);
        lock (_lock)
        {
            if (!_disposed) _endpoints.Add(endpoint);
        }

        return endpoint;
    }

    /// <summary>Forgets an endpoint that left the set (an ejected one is dropped without a readmission).</summary>
    public void Remove(EndpointHealth endpoint)
    {
        lock (_lock)
        {
            endpoint.Removed = true;
            endpoint.Readmission?.Dispose();
            endpoint.Readmission = null;
            _endpoints.Remove(endpoint);
        }
    }

    /// <summary>Whether the endpoint's subchannel is Ready (only ready endpoints count as somewhere calls can go).</summary>
    public void SetReady(EndpointHealth endpoint, bool ready)
    {
        lock (_lock) endpoint.Ready = ready;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var endpoint in _endpoints)
            {
                endpoint.Readmission?.Dispose();
                endpoint.Readmission = null;
            }

            _endpoints.Clear();
        }

        _timer.Dispose();
    }

    /// <summary>A failure made the endpoint's streak reach the threshold (called from the call's thread).</summary>
    internal void OnConsecutiveFailures(EndpointHealth endpoint, int streak)
    {
        lock (_lock)
        {
            if (_disposed || endpoint.Removed || endpoint.IsEjected) return;
            // Refused ejections are retried at every further failure; say so once per streak.
            TryEject(endpoint, EjectionReason.ConsecutiveFailures, endpoint.StreakEvidence(streak), reportRefusal: streak == Policy.ConsecutiveFailures);
        }
    }

    /// <summary>
    /// The interval timer holds the detector weakly: a channel dropped without disposal (with it the balancer and this
    /// detector) is not kept alive by its timer, which stops at its next tick.
    /// </summary>
    private static SingleAssignmentDisposable StartTimer(IScheduler scheduler, TimeSpan interval, OutlierDetector detector)
    {
        var weak = new WeakReference<OutlierDetector>(detector);
        var timer = new SingleAssignmentDisposable();
        timer.Disposable = scheduler.SchedulePeriodic(interval, () =>
        {
            if (weak.TryGetTarget(out var target)) target.OnInterval();
            else timer.Dispose();
        });
        return timer;
    }

    private void OnInterval()
    {
        lock (_lock)
        {
            if (_disposed) return;
            var seconds = Policy.Interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

            // A50: swap the buckets; the interval just ended is judged.
            var candidates = new List<(EndpointHealth Endpoint, long Calls, double Percent)>();
            var withVolume = 0;
            foreach (var endpoint in _endpoints)
            {
                var (successes, failures) = endpoint.TakeInterval();
                var calls = successes + failures;
                if (calls < Policy.MinimumRequestVolume) continue;
                withVolume++;
                var percent = 100.0 * failures / calls;
                if (!endpoint.IsEjected && percent > Policy.FailurePercentageThreshold) candidates.Add((endpoint, calls, percent));
            }

            // A50 failure_percentage_ejection: only with enough endpoints that had enough calls.
            if (withVolume >= Policy.MinimumHosts && candidates.Count > 0)
            {
                Shuffle(candidates);
                foreach (var (endpoint, calls, percent) in candidates.OrderByDescending(c => c.Percent))
                {
                    var evidence = string.Create(CultureInfo.InvariantCulture, $"{percent:0}% of {calls} calls failed in {seconds} s");
                    TryEject(endpoint, EjectionReason.FailureRate, evidence, reportRefusal: true);
                }
            }

            // A50: an admitted endpoint's multiplier decays by one per interval.
            foreach (var endpoint in _endpoints)
            {
                if (!endpoint.IsEjected && endpoint.Multiplier > 0) endpoint.Multiplier--;
            }
        }
    }

    private void TryEject(EndpointHealth endpoint, EjectionReason reason, string evidence, bool reportRefusal)
    {
        var ejected = 0;
        var othersUsable = 0;
        foreach (var other in _endpoints)
        {
            if (other.IsEjected) ejected++;
            if (!ReferenceEquals(other, endpoint) && other.Ready && !other.IsExcluded) othersUsable++;
        }

        var limit = Policy.MaxEjectionPercent == 0 ? 0 : Math.Max(1, _endpoints.Count * Policy.MaxEjectionPercent / 100);
        string? refusal = null;
        if (ejected >= limit)
        {
            refusal = string.Create(CultureInfo.InvariantCulture, $"{ejected} of {_endpoints.Count} endpoints are ejected already, the most allowed ({Policy.MaxEjectionPercent}%)");
        }
        else if (othersUsable == 0)
        {
            refusal = "it is the last ready endpoint";
        }

        if (refusal is not null)
        {
            if (reportRefusal) Notify(() => _observer.EjectionRefused(endpoint, evidence, refusal));
            return;
        }

        // The readmission first: a scheduler that refuses the timer must not leave the endpoint ejected for good.
        var duration = Policy.EjectionTime(endpoint.Multiplier + 1);
        IDisposable readmission;
        try
        {
            readmission = _scheduler.Schedule(duration, () => Readmit(endpoint));
        }
        catch (Exception)
        {
            return;
        }

        endpoint.Multiplier++;
        endpoint.Exclude(ExclusionReasons.Ejected);
        endpoint.EjectedFor = duration;
        endpoint.ResetCounts();
        endpoint.Readmission = readmission;
        Notify(() => _observer.Ejected(endpoint, reason, duration, evidence));
    }

    /// <summary>
    /// Logs and metrics run user code (logger providers, meter listeners) on a call's continuation or a timer thread:
    /// whatever they throw must not escape into the call, the channel or the thread pool.
    /// </summary>
    private static void Notify(Action report)
    {
        try
        {
            report();
        }
        catch (Exception)
        {
            // A broken logger or listener loses this report, nothing else.
        }
    }

    private void Readmit(EndpointHealth endpoint)
    {
        lock (_lock)
        {
            if (_disposed || endpoint.Removed || !endpoint.IsEjected) return;
            endpoint.Readmission = null;
            endpoint.ResetCounts();
            endpoint.Include(ExclusionReasons.Ejected);
            Notify(() => _observer.Readmitted(endpoint, endpoint.EjectedFor));
        }
    }

    private void Shuffle<T>(List<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = _random(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
