namespace Reactive.K8sLb;

/// <summary>What to do about a failure, as decided by a retry classifier.</summary>
public enum RetryDecision
{
    /// <summary>Retry after the next backoff delay.</summary>
    Retry = 0,

    /// <summary>
    /// Retry, but only after the maximum delay, without jitter (for failures a quick retry will not fix). Every client
    /// that gets it waits exactly the maximum, so a fleet retries in step; the library's own discovery instead retries
    /// 401/403/404 with ordinary jittered backoff from a longer initial delay.
    /// </summary>
    RetryAfterMaximumDelay = 1,

    /// <summary>Do not retry: pass the error on.</summary>
    Fail = 2,
}
