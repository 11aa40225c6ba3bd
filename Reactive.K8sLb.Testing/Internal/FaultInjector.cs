namespace Reactive.K8sLb.Testing.Internal;

/// <summary>Armed faults. Guarded by the emulator's single lock.</summary>
internal sealed class FaultInjector
{
    private readonly List<FailureRule> _failures = [];

    public bool ExpireNextWatch { get; set; }

    public bool StallNextWatch { get; set; }

    public FailureRule AddFailure(int statusCode, string message, int? count)
    {
        var rule = new FailureRule(statusCode, message, count);
        _failures.Add(rule);
        return rule;
    }

    public void Remove(FailureRule rule) => _failures.Remove(rule);

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

    internal sealed class FailureRule(int statusCode, string message, int? remaining)
    {
        public int StatusCode { get; } = statusCode;

        public string Message { get; } = message;

        public int? Remaining { get; set; } = remaining;
    }
}
