using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Linq;

/// <summary>Operators on streams of <see cref="Change{T}"/> and on streams of whole snapshots.</summary>
public static class ChangeObservableExtensions
{
    /// <summary>
    /// Diffs consecutive snapshots of a set: the first snapshot inserts all its items; each later one inserts what is
    /// new and removes what is gone (inserts first, in snapshot order). Duplicates within a snapshot count once.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="source">Complete snapshots of the set.</param>
    /// <param name="comparer">Item equality; <see langword="null"/> for the default.</param>
    /// <returns>The net changes between snapshots. Errors and completion pass through.</returns>
    public static IObservable<Change<T>> DiffSnapshots<T>(this IObservable<IReadOnlyCollection<T>> source, IEqualityComparer<T>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Observable.Defer(() =>
        {
            var current = new HashSet<T>(comparer);
            return source.SelectMany(snapshot =>
            {
                ArgumentNullException.ThrowIfNull(snapshot);
                var next = new HashSet<T>(comparer);
                var changes = new List<Change<T>>();
                foreach (var item in snapshot)
                {
                    if (next.Add(item) && !current.Contains(item)) changes.Add(Change.Insert(item));
                }

                changes.AddRange(current.Where(item => !next.Contains(item)).Select(Change.Remove));
                current = next;
                return changes;
            });
        });
    }

    /// <summary>
    /// Debounces changes on the default scheduler; see <see cref="Debounce{T}(IObservable{Change{T}}, TimeSpan, TimeSpan, IScheduler, IEqualityComparer{T}, bool)"/>.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="source">The changes.</param>
    /// <param name="quiet">The quiet window; <see cref="TimeSpan.Zero"/> passes changes through unchanged.</param>
    /// <param name="maxDelay">The longest a change is held, counted from the first held change.</param>
    /// <returns>The net changes, in bursts.</returns>
    public static IObservable<Change<T>> Debounce<T>(this IObservable<Change<T>> source, TimeSpan quiet, TimeSpan maxDelay)
        where T : notnull =>
        Debounce(source, quiet, maxDelay, DefaultScheduler.Instance);

    /// <summary>
    /// Buffers changes until the source has been quiet for <paramref name="quiet"/>, or until
    /// <paramref name="maxDelay"/> has passed since the first buffered change (so constant churn cannot starve the
    /// output, as it does with Throttle); then emits the NET changes in one burst, per item identity
    /// (<paramref name="comparer"/>): an Insert then a Remove cancel; a Remove then an Insert cancel when the inserted
    /// value equals the removed one (<see cref="EqualityComparer{T}.Default"/>) and are an <see cref="ChangeKind.Update"/>
    /// otherwise; an Insert then an Update is an Insert of the new value; Updates collapse to the last; an Update then
    /// a Remove is a Remove. The surviving changes keep their order. When <paramref name="quiet"/> is zero,
    /// changes pass through unchanged. On completion or error the buffered changes are emitted first, then the
    /// completion or error is passed on. Disposal drops what is buffered.
    /// </summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="source">The changes.</param>
    /// <param name="quiet">The quiet window. Must not be negative.</param>
    /// <param name="maxDelay">The longest a change is held. Must be at least <paramref name="quiet"/>.</param>
    /// <param name="scheduler">The scheduler for the timers.</param>
    /// <param name="comparer">Item identity for netting (for <see cref="KubernetesEndpoint"/>s, compare their
    /// <see cref="KubernetesEndpoint.EndPoint"/>); <see langword="null"/> for the default equality.</param>
    /// <param name="leading">When <see langword="true"/>, a change that arrives after the source has been quiet for
    /// <paramref name="quiet"/> is emitted at once, and only the changes that follow it within the window are
    /// buffered. Default <see langword="false"/>: every change waits for the quiet window.</param>
    /// <returns>The net changes, in bursts.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A duration breaks its rule.</exception>
    public static IObservable<Change<T>> Debounce<T>(this IObservable<Change<T>> source, TimeSpan quiet, TimeSpan maxDelay, IScheduler scheduler, IEqualityComparer<T>? comparer = null, bool leading = false)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(scheduler);
        ValidateDebounce(quiet, maxDelay);
        if (quiet == TimeSpan.Zero) return source;

        return Observable.Create<Change<T>>(observer =>
        {
            var gate = new object();
            var debouncer = new ChangeDebouncer<T>(quiet, maxDelay, scheduler, gate, changes => changes.ForEach(observer.OnNext), comparer, leading);
            var subscription = source.Subscribe(
                change => { lock (gate) debouncer.Add([change]); },
                error => { lock (gate) { debouncer.FlushNow(); observer.OnError(error); } },
                () => { lock (gate) { debouncer.FlushNow(); observer.OnCompleted(); } });
            return new System.Reactive.Disposables.CompositeDisposable(subscription, debouncer);
        });
    }

    internal static void ValidateDebounce(TimeSpan quiet, TimeSpan maxDelay)
    {
        if (quiet < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(quiet), quiet, "quiet must not be negative.");
        if (maxDelay < quiet)
            throw new ArgumentOutOfRangeException(nameof(maxDelay), maxDelay, $"maxDelay must be at least quiet ({quiet}).");
    }
}
