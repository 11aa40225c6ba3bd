namespace Reactive.K8sLb.Tests.Support;

/// <summary>
/// Pulses whenever the state a test waits on changes. Wait on it with
/// <see cref="Eventually.That(Func{bool}, ChangeSignal, string, TimeSpan?)"/>, which re-checks its condition on every pulse.
/// </summary>
internal sealed class ChangeSignal
{
    private readonly object _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Pulse"/>. Take it before checking the condition, so no change is missed.</summary>
    public Task NextChange
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    public void Pulse()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }
}
