using System.Reactive.Concurrency;
using System.Reactive.Disposables;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The timing half of the debounce: holds net changes until the input has been quiet for <c>quiet</c>, or until
/// <c>maxDelay</c> has passed since the first held change (so constant churn cannot starve the output, unlike
/// Throttle). With <c>leading</c>, a change that arrives after the input has been quiet for <c>quiet</c> is emitted at
/// once (an isolated scale-up is not delayed) and only the changes that follow it within the window are held.
/// All members must be called under the caller's gate; timer callbacks take that same gate, so the
/// flush callback always runs under it and downstream sees serialized calls.
/// </summary>
internal sealed class ChangeDebouncer<T> : IDisposable
    where T : notnull
{
    private readonly NetChangeBuffer<T> _buffer;
    private readonly TimeSpan _quiet;
    private readonly TimeSpan _maxDelay;
    private readonly IScheduler _scheduler;
    private readonly object _gate;
    private readonly Action<List<Change<T>>> _flush;
    private readonly SerialDisposable _quietTimer = new();
    private readonly SerialDisposable _maxTimer = new();
    private readonly bool _leading;
    private readonly bool _flushEmptyBatches;
    private bool _holding;
    private long _generation;
    private DateTimeOffset _quietFrom = DateTimeOffset.MinValue;

    /// <summary>Creates a debouncer; call its members under <paramref name="gate"/>.</summary>
    /// <param name="quiet">The quiet window (zero: no buffering).</param>
    /// <param name="maxDelay">The longest a change may be held.</param>
    /// <param name="scheduler">The timers' scheduler.</param>
    /// <param name="gate">The caller's lock, also taken by the timers.</param>
    /// <param name="flush">Receives each batch of net changes.</param>
    /// <param name="comparer">Equality of items, or <see langword="null"/> for the default.</param>
    /// <param name="leading">Whether a change after a quiet period is flushed at once.</param>
    /// <param name="flushEmptyBatches">Whether a held batch whose changes cancelled out still reaches <paramref name="flush"/>
    /// (as an empty list), for callers that carry other state with each batch.</param>
    public ChangeDebouncer(TimeSpan quiet, TimeSpan maxDelay, IScheduler scheduler, object gate, Action<List<Change<T>>> flush, IEqualityComparer<T>? comparer = null, bool leading = false, bool flushEmptyBatches = false)
    {
        _leading = leading;
        _flushEmptyBatches = flushEmptyBatches;
        _quiet = quiet;
        _maxDelay = maxDelay < quiet ? quiet : maxDelay;
        _scheduler = scheduler;
        _gate = gate;
        _flush = flush;
        _buffer = new NetChangeBuffer<T>(comparer);
    }

    public void Add(IEnumerable<Change<T>> changes)
    {
        var list = changes.ToList();
        if (list.Count == 0) return;
        if (_quiet <= TimeSpan.Zero)
        {
            _flush(list);
            return;
        }

        var now = _scheduler.Now;
        var wasQuiet = now >= _quietFrom;
        _quietFrom = now + _quiet;
        if (_leading && wasQuiet && !_holding)
        {
            _flush(list);
            return;
        }

        foreach (var change in list)
        {
            _buffer.Add(change);
        }

        var generation = _generation;
        _quietTimer.Disposable = _scheduler.Schedule(_quiet, () => OnTimer(generation));
        if (!_holding)
        {
            _holding = true;
            _maxTimer.Disposable = _scheduler.Schedule(_maxDelay, () => OnTimer(generation));
        }
    }

    /// <summary>Emits what is held now (an empty list when nothing is) and stops the timers.</summary>
    /// <summary>Whether changes are being held for a later flush.</summary>
    public bool IsHolding => _holding;

    public void FlushNow()
    {
        _generation++;
        _holding = false;
        _quietTimer.Disposable = null;
        _maxTimer.Disposable = null;
        _flush(_buffer.Drain());
    }

    public void Dispose()
    {
        _generation++;
        _quietTimer.Dispose();
        _maxTimer.Dispose();
    }

    private void OnTimer(long generation)
    {
        lock (_gate)
        {
            // A timer that fired while a flush was under way belongs to the previous batch.
            if (generation != _generation) return;
            _generation++;
            _holding = false;
            _quietTimer.Disposable = null;
            _maxTimer.Disposable = null;
            var changes = _buffer.Drain();
            if (changes.Count > 0 || _flushEmptyBatches) _flush(changes);
        }
    }
}
