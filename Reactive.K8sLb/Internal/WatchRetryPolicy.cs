using System.Net;
using System.Reactive.Concurrency;
using k8s.Autorest;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// How long the watcher waits before its n-th consecutive retry. Every failure follows the jittered exponential
/// backoff of <see cref="DiscoveryOptions.Backoff"/>, so a fleet spreads out instead of retrying in step. A refusal
/// (401, 403, 404) starts from a higher delay (<see cref="RefusedInitialDelay"/>, or <see cref="BackoffOptions.Initial"/>
/// if larger): a missing RoleBinding is usually created within seconds, so waiting the maximum would only prolong the
/// outage. A 429 or 503 with <c>Retry-After</c> waits at least that long. No delay exceeds <see cref="BackoffOptions.Maximum"/>.
/// The first retry after a healthy watch broke (not a refusal) spreads over <see cref="BackoffOptions.FirstRetryWindow"/>
/// (full jitter), so that a fleet broken at once by an API restart does not come back in one burst.
/// </summary>
internal sealed class WatchRetryPolicy
{
    /// <summary>The first delay after a refusal, unless <see cref="BackoffOptions.Initial"/> is larger.</summary>
    public static readonly TimeSpan RefusedInitialDelay = TimeSpan.FromSeconds(1);

    private readonly BackoffOptions _backoff;
    private readonly BackoffOptions _refusedBackoff;
    private readonly IScheduler _scheduler;
    private readonly Func<double> _random;

    /// <param name="backoff">The configured backoff.</param>
    /// <param name="scheduler">The clock for the HTTP-date form of Retry-After.</param>
    /// <param name="random">Values in [0, 1) for the jitter.</param>
    public WatchRetryPolicy(BackoffOptions backoff, IScheduler scheduler, Func<double>? random = null)
    {
        _backoff = backoff;
        _scheduler = scheduler;
        _random = random ?? Random.Shared.NextDouble;
        var refusedInitial = backoff.Initial > RefusedInitialDelay ? backoff.Initial : RefusedInitialDelay;
        _refusedBackoff = new BackoffOptions(
            initial: refusedInitial < backoff.Maximum ? refusedInitial : backoff.Maximum,
            maximum: backoff.Maximum,
            multiplier: backoff.Multiplier,
            jitter: backoff.Jitter,
            resetAfter: backoff.ResetAfter);
    }

    /// <summary>Whether the API refused us (401, 403, 404): a configuration problem, reported at error level.</summary>
    /// <param name="error">The failure.</param>
    public static bool IsRefused(Exception error) =>
        error is HttpOperationException { Response.StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound };

    /// <summary>The delay before the given consecutive retry after <paramref name="error"/>; the watcher retries every error.</summary>
    /// <param name="error">The failure.</param>
    /// <param name="attempt">1 for the first retry of a streak.</param>
    /// <param name="afterHealthy">Whether a healthy watch preceded this failure (only meaningful for retry 1).</param>
    public TimeSpan DelayFor(Exception error, int attempt, bool afterHealthy = false)
    {
        var refused = IsRefused(error);
        var delay = attempt == 1 && afterHealthy && !refused
            ? _backoff.FirstRetryDelay(_random())
            : (refused ? _refusedBackoff : _backoff).Delay(attempt, _random());
        if (RetryAfterHeader.Of(error, _scheduler.Now) is { } asked && asked > delay)
        {
            delay = asked < _backoff.Maximum ? asked : _backoff.Maximum;
        }

        return delay;
    }
}
