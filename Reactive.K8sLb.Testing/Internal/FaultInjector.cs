namespace Reactive.K8sLb.Testing.Internal;

/// <summary>Armed faults. Guarded by the emulator's single lock.</summary>
internal sealed class FaultInjector
{
    private readonly List<FailureRule> _failures = [];
    private readonly List<TaskCompletionSource> _listStalls = [];

    public bool ExpireNextWatch { get; set; }

    public bool StallNextWatch { get; set; }

    /// <summary>When set, the next streaming list sends this many of its initial events, then 410 Expired.</summary>
    public int? ExpireNextStreamingListAfter { get; set; }

    public FailureRule AddFailure(int statusCode, string message, int? count, int? retryAfterSeconds)
    {
        var rule = new FailureRule(statusCode, message, count, retryAfterSeconds);
        _failures.Add(rule);
        return rule;
    }

    public void Remove(FailureRule rule) => _failures.Remove(rule);

    /// <summary>Puts a LIST stall in force; completing it (through <see cref="Remove(TaskCompletionSource)"/>) releases the LISTs it holds.</summary>
    public TaskCompletionSource AddListStall()
    {
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _listStalls.Add(stall);
        return stall;
    }

    public void Remove(TaskCompletionSource listStall)
    {
        _listStalls.Remove(listStall);
        listStall.TrySetResult();
    }

    /// <summary>Completes when every LIST stall in force now has been lifted; <see langword="null"/> when none is.</summary>
    public Task? ListStallsLifted() => _listStalls.Count switch
    {
        0 => null,
        1 => _listStalls[0].Task,
        _ => Task.WhenAll(_listStalls.Select(s => s.Task)),
    };

    /// <summary>Takes one use of the oldest armed failure, if any.</summary>
    public FailureRule? TakeFailure()
    {
        if (_failures.Count == 0)
        {
            return null;
        }

        var rule = _failures[0];
        if (rule.Remaining is { } remaining)
        {
            rule.Remaining = remaining - 1;
            if (rule.Remaining <= 0)
            {
                _failures.RemoveAt(0);
            }
        }

        return rule;
    }

    internal sealed class FailureRule(int statusCode, string message, int? remaining, int? retryAfterSeconds)
    {
        public int StatusCode { get; } = statusCode;

        public string Message { get; } = message;

        public int? RetryAfterSeconds { get; } = retryAfterSeconds;

        public int? Remaining { get; set; } = remaining;
    }
}
