using Microsoft.AspNetCore.Http;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>
/// The open watch connections (including stalled ones), so faults can abort them and tests can wait for a count
/// without polling: every change completes the current <see cref="TaskCompletionSource"/> and swaps in a new one.
/// </summary>
internal sealed class OpenWatchTracker
{
    private readonly object _gate = new();
    private readonly Dictionary<long, HttpContext> _open = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _open.Count;
            }
        }
    }

    public void Add(long id, HttpContext context) => Change(() => _open[id] = context);

    public void Remove(long id) => Change(() => _open.Remove(id));

    public void AbortAll()
    {
        HttpContext[] contexts;
        lock (_gate)
        {
            contexts = [.. _open.Values];
        }

        foreach (var c in contexts)
        {
            try
            {
                c.Abort();
            }
            catch (ObjectDisposedException)
            {
                // The request completed between the snapshot and the abort: nothing left to drop.
            }
        }
    }

    public async Task WaitForCountAsync(int count, TimeSpan timeout)
    {
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (true)
        {
            Task changed;
            int actual;
            lock (_gate)
            {
                actual = _open.Count;
                changed = _changed.Task;
            }

            if (actual == count)
            {
                return;
            }

            var remaining = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), deadline);
            if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline)
            {
                throw new TimeoutException($"Expected {count} open watch(es) within {timeout}, but {actual} are open.");
            }

            try
            {
                await changed.WaitAsync(remaining).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Loop once more to report the final count.
            }
        }
    }

    private void Change(Action change)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            change();
            previous = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }
}
