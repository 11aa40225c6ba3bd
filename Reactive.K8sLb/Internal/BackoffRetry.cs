using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The retry loop behind <see cref="Linq.BackoffObservableExtensions.RetryWithBackoff{T}(IObservable{T}, BackoffOptions)"/>:
/// resubscribes after an error, after the delay <c>delayFor</c> gives for the n-th consecutive retry. The count starts
/// over when a value that <c>resetsSequence</c> accepts arrives, or after <c>resetAfter</c> of uninterrupted
/// subscription. Once the subscription is disposed nothing more happens: no retry, no <c>onRetry</c>, no error.
/// </summary>
internal static class BackoffRetry
{
    /// <summary>Retries <paramref name="source"/> with the delays <paramref name="delayFor"/> gives.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="source">The source to resubscribe to after an error.</param>
    /// <param name="scheduler">The scheduler for the delays.</param>
    /// <param name="delayFor">The delay before the given consecutive retry (1 for the first) after the given error, or
    /// <see langword="null"/> to pass the error on. An exception it throws is passed on as the error.</param>
    /// <param name="onRetry">Called before each wait.</param>
    /// <param name="resetsSequence">Which values prove the source healthy, so the next error counts as retry 1.</param>
    /// <param name="resetAfter">Uninterrupted subscription after which the count starts over.</param>
    /// <returns>The source's elements, across retries.</returns>
    public static IObservable<T> Create<T>(
        IObservable<T> source,
        IScheduler scheduler,
        Func<Exception, int, TimeSpan?> delayFor,
        Action<RetryAttempt>? onRetry,
        Func<T, bool> resetsSequence,
        TimeSpan resetAfter) =>
        Observable.Create<T>(observer =>
        {
            var gate = new object();
            var subscription = new SerialDisposable();
            var retryTimer = new SerialDisposable();
            var healthyTimer = new SerialDisposable();
            var attempt = 0;
            var disposed = false;

            void Connect()
            {
                // A retry timer that already fired when the subscription was disposed must not start a new session.
                lock (gate)
                {
                    if (disposed) return;
                }

                var current = new SingleAssignmentDisposable();
                subscription.Disposable = current;
                healthyTimer.Disposable = scheduler.Schedule(resetAfter, () => { lock (gate) attempt = 0; });
                current.Disposable = source.Subscribe(
                    value =>
                    {
                        if (resetsSequence(value))
                        {
                            lock (gate) attempt = 0;
                        }

                        observer.OnNext(value);
                    },
                    OnError,
                    observer.OnCompleted);
            }

            void OnError(Exception error)
            {
                // The failed subscription is over: release it now, not at the next resubscription.
                subscription.Disposable = null;
                healthyTimer.Disposable = null;
                int thisAttempt;
                lock (gate)
                {
                    // A session that fails because it is being torn down (a disposed client, say) is not a failure.
                    if (disposed) return;
                    thisAttempt = attempt + 1;
                }

                TimeSpan? delay;
                try
                {
                    delay = delayFor(error, thisAttempt);
                }
                catch (Exception classifierError)
                {
                    observer.OnError(classifierError);
                    return;
                }

                if (delay is not { } wait)
                {
                    observer.OnError(error);
                    return;
                }

                lock (gate) attempt = thisAttempt;
                onRetry?.Invoke(new RetryAttempt(thisAttempt, wait, error));
                retryTimer.Disposable = scheduler.Schedule(wait, Connect);
            }

            Connect();
            return new CompositeDisposable(
                Disposable.Create(() => { lock (gate) disposed = true; }),
                subscription,
                retryTimer,
                healthyTimer);
        });
}
