using System.Diagnostics;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The watch stage's activities: <c>k8slb.list</c> for one whole (paginated) LIST and <c>k8slb.watch</c> for one watch
/// connection. Each is a root (discovery is background work: it is not a child of whatever the subscriber had current),
/// and <see cref="Start"/> hands back the caller's <see cref="Activity.Current"/>, which the watcher restores around
/// everything it emits (<see cref="CurrentScope"/>), so the activity is the parent of the HTTP request it makes and of
/// nothing else. With no listener <see cref="Start"/> returns <see langword="null"/> and touches nothing.
/// </summary>
internal static class WatchActivities
{
    public const string ListName = "k8slb.list";
    public const string WatchName = "k8slb.watch";

    public const string ResourceVersionTag = "k8s.resource_version";
    public const string InitialResourceVersionTag = "k8slb.watch.initial_resource_version";
    public const string ListReasonTag = "k8slb.list.reason";
    public const string ItemsTag = "k8slb.list.items";
    public const string PagesTag = "k8slb.list.pages";
    public const string EventsTag = "k8slb.watch.events";
    public const string BookmarksTag = "k8slb.watch.bookmarks";
    public const string TimeoutSecondsTag = "k8slb.watch.timeout_seconds";

    /// <summary>On a watch: <see langword="true"/> when it is a streaming list (<c>sendInitialEvents=true</c>).</summary>
    public const string SendInitialEventsTag = "k8slb.watch.send_initial_events";

    /// <summary>List event: the continue token expired mid-pagination (410); the LIST starts over from page one.</summary>
    public const string ContinueExpiredEvent = "continue_expired";

    /// <summary>Watch event: the response headers arrived with 200 (clients the library creates only).</summary>
    public const string EstablishedEvent = "established";

    /// <summary>Watch event: the first line (an event or a bookmark) arrived; the retry delays start over.</summary>
    public const string FirstEventEvent = "first_event";

    /// <summary>Watch event: 410 Gone (tagged with the expired resourceVersion); a relist follows.</summary>
    public const string RelistEvent = "relist";

    /// <summary>Watch event: the idle watchdog gave the silent watch up.</summary>
    public const string IdleEvent = "idle";

    /// <summary>
    /// Watch event of a streaming list: the bookmark annotated <c>k8s.io/initial-events-end</c> arrived (tagged with the
    /// number of slices and the resourceVersion); the first snapshot is complete.
    /// </summary>
    public const string InitialEventsEndEvent = "initial_events_end";

    /// <summary>Watch event of a streaming list: the server rejected or did not honour it; LIST + WATCH follows.</summary>
    public const string StreamingUnsupportedEvent = "streaming_list_unsupported";

    /// <summary>Watch event: an unreadable line was skipped.</summary>
    public const string EventSkippedEvent = "event_skipped";

    /// <summary>The reason of the first LIST of a discovery.</summary>
    public const string InitialReason = "initial";

    /// <summary>
    /// Starts a root activity with the Service tags, or returns <see langword="null"/> when nobody samples it. The caller
    /// disposes it in a finally, and its async method's end restores the caller's <see cref="Activity.Current"/>.
    /// </summary>
    /// <param name="name"><see cref="ListName"/> or <see cref="WatchName"/>.</param>
    /// <param name="service">The Service.</param>
    /// <param name="namespace">The namespace.</param>
    /// <param name="previous">The <see cref="Activity.Current"/> before the call, to restore around emissions.</param>
    public static Activity? Start(string name, string service, string @namespace, out Activity? previous)
    {
        previous = Activity.Current;
        if (!Instrumentation.ActivitySource.HasListeners()) return null;

        // A root: detach from the subscriber's ambient activity (setting Current allocates, so only when there is one).
        if (previous is not null) Activity.Current = null;
        var activity = Instrumentation.ActivitySource.StartActivity(name, ActivityKind.Client, parentContext: default, tags: null);
        if (activity is null)
        {
            if (previous is not null) Activity.Current = previous;
            return null;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag(K8sLbTelemetry.ServiceNameTag, service);
            activity.SetTag(K8sLbTelemetry.NamespaceTag, @namespace);
        }

        return activity;
    }

    /// <summary>Sets the outcome tags, and the Error status with <paramref name="error"/>'s message on failure.</summary>
    public static void SetResult(Activity activity, ApiResult result, Exception? error)
    {
        if (!activity.IsAllDataRequested) return;
        activity.SetTag(WatchInstruments.OutcomeTag, result.Outcome);
        if (result.StatusCode != 0) activity.SetTag(WatchInstruments.StatusCodeTag, WatchInstruments.Box(result.StatusCode));
        if (!result.IsSuccess)
        {
            activity.SetStatus(ActivityStatusCode.Error, error?.Message ?? result.Outcome);
            if (error is not null) activity.SetTag("error.type", error.GetType().FullName);
        }
    }

    /// <summary>
    /// Makes <paramref name="restore"/> the current activity until disposed, then puts back the one current before:
    /// emissions to downstream stages and user code run outside the watch's activity (and outside the HTTP request's,
    /// on the thread that received the response headers). Free when there is no <paramref name="activity"/>.
    /// </summary>
    public static CurrentScope Outside(Activity? activity, Activity? restore)
    {
        if (activity is null) return default;

        // A stopped activity cannot be made current again (the setter ignores it): then none is current.
        if (restore is { IsStopped: true }) restore = null;
        var saved = Activity.Current;
        if (saved == restore) return default;
        Activity.Current = restore;
        return new CurrentScope(saved, active: true);
    }

    /// <summary>Puts back the activity that was current before <see cref="Outside"/>.</summary>
    internal readonly struct CurrentScope(Activity? saved, bool active) : IDisposable
    {
        public void Dispose()
        {
            if (active) Activity.Current = saved;
        }
    }
}
