using Grpc.Core;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// One endpoint's call outcomes and exclusion state. The hot path (<see cref="Record"/>, <see cref="IsExcluded"/>) is
/// lock-free and allocates nothing: interlocked counters and a flags word the picker reads. Everything else (ready
/// state, ejection, multiplier, the last interval's counts) belongs to the <see cref="OutlierDetector"/> and is only
/// touched under its lock.
/// </summary>
internal sealed class EndpointHealth
{
    private readonly OutlierDetector? _detector;
    private int _exclusions;
    private long _successes;
    private long _failures;
    private int _consecutive;
    private int _streakCode;
    private int _streakMixed;

    /// <summary>Creates the state of one endpoint.</summary>
    /// <param name="name">The endpoint as logs name it, e.g. <c>10.0.0.7:50051</c>.</param>
    /// <param name="detector">The detector judging it, or <see langword="null"/> when outlier detection is off
    /// (then nothing is counted and it is never excluded).</param>
    /// <param name="owner">What the observer needs to report on it (the balancer's telemetry endpoint).</param>
    public EndpointHealth(string name, OutlierDetector? detector, object? owner = null)
    {
        Name = name;
        _detector = detector;
        Owner = owner;
    }

    public string Name { get; }

    public object? Owner { get; }

    /// <summary>Whether any reason excludes it from picking.</summary>
    public bool IsExcluded => Volatile.Read(ref _exclusions) != 0;

    public ExclusionReasons Exclusions => (ExclusionReasons)Volatile.Read(ref _exclusions);

    /// <summary>Whether outlier detection ejected it.</summary>
    public bool IsEjected => (Exclusions & ExclusionReasons.Ejected) != 0;

    /// <summary>Whether calls to it are counted (outlier detection is on).</summary>
    public bool IsCounting => _detector is not null;

    // Detector state, under its lock.
    internal bool Ready { get; set; }

    internal bool Removed { get; set; }

    internal int Multiplier { get; set; }

    /// <summary>How long the current (or last) ejection lasts.</summary>
    internal TimeSpan EjectedFor { get; set; }

    internal IDisposable? Readmission { get; set; }

    /// <summary>Failed calls in a row so far.</summary>
    internal int ConsecutiveFailures => Volatile.Read(ref _consecutive);

    /// <summary>
    /// Counts one call's final status. Cancellations by the caller and deadlines after the server answered are not
    /// counted; statuses of the failure set are failures; anything else is a success.
    /// </summary>
    /// <param name="code">The call's final status.</param>
    /// <param name="responseHeadersReceived">Whether response headers arrived.</param>
    public void Record(StatusCode code, bool responseHeadersReceived)
    {
        var detector = _detector;
        if (detector is null) return;
        switch (detector.Policy.Classify(code, responseHeadersReceived))
        {
            case CallOutcome.Success:
                Interlocked.Increment(ref _successes);
                if (Volatile.Read(ref _consecutive) != 0) Volatile.Write(ref _consecutive, 0);
                break;
            case CallOutcome.Failure:
                Interlocked.Increment(ref _failures);
                var streak = Interlocked.Increment(ref _consecutive);
                if (streak == 1)
                {
                    Volatile.Write(ref _streakCode, (int)code);
                    Volatile.Write(ref _streakMixed, 0);
                }
                else if (Volatile.Read(ref _streakCode) != (int)code)
                {
                    Volatile.Write(ref _streakMixed, 1);
                }

                var threshold = detector.Policy.ConsecutiveFailures;
                if (threshold > 0 && streak >= threshold && !IsEjected) detector.OnConsecutiveFailures(this, streak);
                break;
        }
    }

    /// <summary>Takes the counts of the interval that just ended and starts a new one.</summary>
    internal (long Successes, long Failures) TakeInterval() =>
        (Interlocked.Exchange(ref _successes, 0), Interlocked.Exchange(ref _failures, 0));

    /// <summary>Forgets the current streak and interval (on ejection and readmission: a fresh start).</summary>
    internal void ResetCounts()
    {
        Volatile.Write(ref _consecutive, 0);
        Volatile.Write(ref _streakMixed, 0);
        TakeInterval();
    }

    /// <summary>The evidence of a streak, e.g. "5 consecutive Unavailable" or "6 consecutive failures, the first Internal".</summary>
    internal string StreakEvidence(int streak)
    {
        var code = (StatusCode)Volatile.Read(ref _streakCode);
        return Volatile.Read(ref _streakMixed) == 0
            ? $"{streak} consecutive {code}"
            : $"{streak} consecutive failures, the first {code}";
    }

    internal bool Exclude(ExclusionReasons reason) => Update(reason, set: true);

    internal bool Include(ExclusionReasons reason) => Update(reason, set: false);

    public override string ToString() => Name;

    private bool Update(ExclusionReasons reason, bool set)
    {
        while (true)
        {
            var current = Volatile.Read(ref _exclusions);
            var next = set ? current | (int)reason : current & ~(int)reason;
            if (next == current) return false;
            if (Interlocked.CompareExchange(ref _exclusions, next, current) == current) return true;
        }
    }
}
