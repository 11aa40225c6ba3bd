using System.Reactive.Concurrency;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Linq;

/// <summary>Retry with exponential backoff, for any observable.</summary>
public static class BackoffObservableExtensions
{
    /// <summary>Retries every error with <paramref name="backoff"/> on the default scheduler.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="source">The source to resubscribe to after an error.</param>
    /// <param name="backoff">The delays.</param>
    /// <returns>The source's elements, across retries.</returns>
    public static IObservable<T> RetryWithBackoff<T>(this IObservable<T> source, BackoffOptions backoff) =>
        RetryWithBackoff(source, backoff, DefaultScheduler.Instance);

    /// <summary>
    /// Resubscribes to <paramref name="source"/> after an error that <paramref name="shouldRetry"/> accepts, waiting
    /// <see cref="BackoffOptions.Delay(int, double)"/> for the n-th consecutive retry. The sequence of delays starts
    /// over when the source emits a value or stays subscribed for <see cref="BackoffOptions.ResetAfter"/> without
    /// failing. Errors the predicate rejects, and completion, pass through. After the subscription is disposed no
    /// retry starts and no error is reported, even when a retry was already due.
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="source">The source to resubscribe to after an error.</param>
    /// <param name="backoff">The delays.</param>
    /// <param name="scheduler">The scheduler for the delays.</param>
    /// <param name="shouldRetry">Which errors to retry; <see langword="null"/> retries every error.</param>
    /// <param name="onRetry">Called before each wait, e.g. to log the attempt, delay and error.</param>
    /// <param name="random">Source of randomness in [0, 1) for the jitter; <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    /// <returns>The source's elements, across retries.</returns>
    public static IObservable<T> RetryWithBackoff<T>(
        this IObservable<T> source,
        BackoffOptions backoff,
        IScheduler scheduler,
        Func<Exception, bool>? shouldRetry = null,
        Action<RetryAttempt>? onRetry = null,
        Func<double>? random = null)
    {
        Func<Exception, RetryDecision> classify = shouldRetry is null
            ? static _ => RetryDecision.Retry
            : error => shouldRetry(error) ? RetryDecision.Retry : RetryDecision.Fail;
        return RetryWithBackoff(source, backoff, scheduler, classify, onRetry, random);
    }

    /// <summary>
    /// Like <see cref="RetryWithBackoff{T}(IObservable{T}, BackoffOptions, IScheduler, Func{Exception, bool}, Action{RetryAttempt}, Func{double})"/>,
    /// with a classifier that can also ask for the maximum delay (for failures such as 401/403 that a quick retry
    /// will not fix).
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="source">The source to resubscribe to after an error.</param>
    /// <param name="backoff">The delays.</param>
    /// <param name="scheduler">The scheduler for the delays.</param>
    /// <param name="classify">What to do about each error. An exception it throws is passed on as the error.</param>
    /// <param name="onRetry">Called before each wait, e.g. to log the attempt, delay and error.</param>
    /// <param name="random">Source of randomness in [0, 1) for the jitter; <see langword="null"/> for <see cref="Random.Shared"/>.</param>
    /// <param name="resetOnValue">Whether a value from the source starts the delay sequence over. Pass
    /// <see langword="false"/> when the source emits heartbeats that do not prove it healthy (then only
    /// <see cref="BackoffOptions.ResetAfter"/> of uninterrupted subscription does). Default <see langword="true"/>.</param>
    /// <returns>The source's elements, across retries.</returns>
    public static IObservable<T> RetryWithBackoff<T>(
        this IObservable<T> source,
        BackoffOptions backoff,
        IScheduler scheduler,
        Func<Exception, RetryDecision> classify,
        Action<RetryAttempt>? onRetry = null,
        Func<double>? random = null,
        bool resetOnValue = true)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(backoff);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(classify);
        var next = random ?? Random.Shared.NextDouble;
        return BackoffRetry.Create(
            source,
            scheduler,
            (error, attempt) => classify(error) switch
            {
                RetryDecision.Fail => null,
                RetryDecision.RetryAfterMaximumDelay => backoff.Maximum,
                _ => backoff.Delay(attempt, next()),
            },
            onRetry,
            resetOnValue ? static _ => true : static _ => false,
            backoff.ResetAfter);
    }
}
