using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using Microsoft.Reactive.Testing;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// Virtual time for a watcher that talks real HTTP: a <see cref="TestScheduler"/> made safe to schedule on from the
/// threads the HTTP continuations run on, which records every due time asked for, so a test can wait until a timer
/// is pending before it advances the clock. With <c>cancellable: false</c> disposing a timer does not stop it, as with
/// a real timer whose callback is already running when the subscription is disposed.
/// </summary>
internal sealed class VirtualTimers(bool cancellable = true) : IScheduler
{
    private readonly object _gate = new();
    private readonly TestScheduler _scheduler = new();
    private readonly List<TimeSpan> _dueTimes = [];

    public DateTimeOffset Now
    {
        get
        {
            lock (_gate) return _scheduler.Now;
        }
    }

    /// <summary>Every relative due time scheduled so far.</summary>
    public IReadOnlyList<TimeSpan> DueTimes
    {
        get
        {
            lock (_gate) return [.. _dueTimes];
        }
    }

    public void AdvanceBy(TimeSpan time)
    {
        lock (_gate) _scheduler.AdvanceBy(time.Ticks);
    }

    public IDisposable Schedule<TState>(TState state, Func<IScheduler, TState, IDisposable> action) =>
        Schedule(state, TimeSpan.Zero, action);

    public IDisposable Schedule<TState>(TState state, TimeSpan dueTime, Func<IScheduler, TState, IDisposable> action)
    {
        lock (_gate)
        {
            _dueTimes.Add(dueTime);
            var timer = _scheduler.Schedule(state, dueTime, (_, s) => action(this, s));
            return cancellable ? Disposable.Create(() => { lock (_gate) timer.Dispose(); }) : Disposable.Empty;
        }
    }

    public IDisposable Schedule<TState>(TState state, DateTimeOffset dueTime, Func<IScheduler, TState, IDisposable> action) =>
        Schedule(state, dueTime - Now, action);
}
