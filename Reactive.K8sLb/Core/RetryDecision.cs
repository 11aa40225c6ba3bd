namespace Reactive.K8sLb;

/// <summary>What to do about a failure, as decided by a retry classifier.</summary>
public enum RetryDecision
{
    /// <summary>Retry after the next backoff delay.</summary>
    Retry = 0,

    /// <summary>Retry, but only after the maximum delay (for failures a quick retry will not fix, such as 403).</summary>
    RetryAfterMaximumDelay = 1,

    /// <summary>Do not retry: pass the error on.</summary>
    Fail = 2,
}
