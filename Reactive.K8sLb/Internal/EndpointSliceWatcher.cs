using System.Diagnostics;
using System.Net;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The list/watch protocol for one Service's EndpointSlices, as an informer would run it: a streaming list where the
/// API server supports it (one WATCH with <c>sendInitialEvents=true</c> whose initial events end with a bookmark
/// annotated <c>k8s.io/initial-events-end</c>, then go on as a watch), else LIST (paginated), then WATCH from the list's
/// resourceVersion with bookmarks; a normal end of the watch resumes from the last resourceVersion
/// without relisting; 410 Gone relists (a reset, which the diffing core reconciles); a silent watch is abandoned by an
/// idle watchdog and reported as failing; every other failure is retried with backoff (<see cref="WatchRetryPolicy"/>),
/// reported in band as a failing status, and never ends the stream. The status turns healthy again as soon as a watch
/// answers 200: on its response headers when the client is one the library created (see
/// <see cref="KubernetesClientLease"/>), else on its first event or bookmark. The retry delays start over once an
/// established watch delivers its first event or bookmark. One instance per subscription.
/// <para>
/// Telemetry (<see cref="WatchInstruments"/>, <see cref="WatchActivities"/>): every HTTP request is counted by verb and
/// outcome, every LIST after the first as a relist and every WATCH after the first as a restart (each with why), every
/// backoff delay taken is recorded; each LIST and each watch connection is an activity. Work cancelled because the
/// subscription is disposed is not counted.
/// </para>
/// </summary>
internal sealed class EndpointSliceWatcher
{
    private readonly KubernetesClientLease _lease;
    private readonly DiscoveryConfig _config;
    private readonly IScheduler _scheduler;
    private readonly ILogger _logger;
    private readonly string _labelSelector;
    private readonly WatchRetryPolicy _retryPolicy;
    private readonly ServiceLogScope _logScope;
    private string? _resourceVersion;

    // The namespace, once the client exists (for the backoff metric, which may be recorded before).
    private volatile string? _namespace;

    // Why the next LIST runs (initial for the first) and why the next WATCH runs (null for the first): the tags of the
    // relist and restart counters and of the list activity. Only the session loop touches them, one session at a time.
    private string _listReason = WatchActivities.InitialReason;
    private string? _restartReason;

    // Whether this streak of failures has already logged a refusal at error level; cleared when a watch is healthy.
    private volatile bool _refusalReported;

    // Whether a watch was healthy, or a list completed, since the last failure: its first retry then spreads over
    // Backoff.FirstRetryWindow.
    private volatile bool _healthySinceFailure;

    // Streaming lists that expired (410) before their initial events were complete, in a row: the second backs off.
    private int _expiredStreamingLists;

    // Why the last streaming list fell back to LIST + WATCH, and how sure that is; how many ambiguous fallbacks came in
    // a row; whether the next list is a LIST for this attempt only; whether the relist a fallback stood for is already
    // counted (the LIST that replaces it is the same relist).
    private string? _streamingFallbackReason;
    private StreamingFallback _streamingFallback;
    private int _ambiguousStreamingFallbacks;
    private bool _listOnce;
    private bool _relistCounted;

    /// <summary>The annotation of the bookmark that ends a streaming list's initial events.</summary>
    internal const string InitialEventsEndAnnotation = "k8s.io/initial-events-end";

    /// <summary>A watch that ends sooner than this without any slice event is treated as a failure (backoff).</summary>
    private static readonly TimeSpan MinimumWatchDuration = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a watch that sent a 410 ERROR event may take to end its response (the API server ends it right after)
    /// before the watcher gives up on it; never longer than the idle timeout.
    /// </summary>
    internal static readonly TimeSpan ExpiredStreamGrace = TimeSpan.FromMilliseconds(500);

    private EndpointSliceWatcher(KubernetesClientLease lease, DiscoveryConfig config, ServiceScopedLoggerFactory loggers)
    {
        _lease = lease;
        _logScope = loggers.Scope;
        _logger = loggers.CreateLogger("Reactive.K8sLb.Discovery");
        _config = config;
        _scheduler = config.EffectiveScheduler;
        _labelSelector = "kubernetes.io/service-name=" + config.ServiceName;
        _retryPolicy = new WatchRetryPolicy(config.Backoff, _scheduler);
    }

    /// <summary>A cold stream of signals; each subscription runs its own list/watch with its own client lease.</summary>
    public static IObservable<DiscoverySignal> Signals(DiscoveryConfig config, IKubernetes? client, ServiceScopedLoggerFactory loggers) =>
        Observable.Using(
            () => new KubernetesClientLease(config, client),
            lease => new EndpointSliceWatcher(lease, config, loggers).Run());

    private IObservable<DiscoverySignal> Run() => Observable.Create<DiscoverySignal>(observer =>
        BackoffRetry.Create(
                Observable.Create<DiscoverySignal>(RunSessionAsync),
                _scheduler,
                (error, attempt) =>
                {
                    var afterHealthy = _healthySinceFailure;
                    _healthySinceFailure = false;
                    return _retryPolicy.DelayFor(error, attempt, afterHealthy);
                },
                attempt => ReportFailure(observer, attempt),
                signal => signal.ResetsBackoff,
                _config.Backoff.ResetAfter)
            .Subscribe(observer));

    /// <summary>One session: runs until an error, which the retry around it handles.</summary>
    private async Task RunSessionAsync(IObserver<DiscoverySignal> observer, CancellationToken cancellationToken)
    {
        // Creates the client (a failure here is retried like any other) and names the namespace in every log message.
        _namespace = _lease.Namespace;
        _logScope.Namespace = _namespace;
        while (!cancellationToken.IsCancellationRequested)
        {
            var listed = false;
            var streaming = false;
            if (_resourceVersion is null)
            {
                if (_config.StreamingLists && !_listOnce && !StreamingListMemory.IsUnsupported(_lease.Client))
                {
                    // The watch below lists: its initial events end in a bookmark that completes the snapshot.
                    streaming = true;
                }
                else
                {
                    var (slices, resourceVersion) = await ListAsync(cancellationToken).ConfigureAwait(false);
                    _resourceVersion = resourceVersion;
                    listed = true;
                    _listOnce = false;

                    // The server answered a whole list: a break from here on is one a fleet may share, like the break
                    // of a healthy watch (a watch that breaks before its first line would otherwise retry in step).
                    _healthySinceFailure = true;
                    observer.OnNext(DiscoverySignal.Slice(SliceEvent.Reset(slices), _lease.Namespace));
                }
            }

            var started = _scheduler.Now;
            var (outcome, sliceEvents) = await WatchAsync(observer, streaming, cancellationToken).ConfigureAwait(false);
            var quick = sliceEvents == 0 && _scheduler.Now - started < MinimumWatchDuration;
            var beforeSnapshot = streaming && _resourceVersion is null;
            if (outcome == WatchOutcome.StreamingUnsupported)
            {
                // LIST + WATCH at once (the same relist: not counted twice). A definite answer is remembered for the
                // client, so every later list of it, in any discovery, is LIST + WATCH; an ambiguous one (silence, an
                // early end) is remembered when it happens twice in a row; an error answer only changes this attempt,
                // as client-go's reflector falls back for one attempt.
                _relistCounted = true;
                _listOnce = true;
                var reason = _streamingFallbackReason ?? "unknown";
                if (_streamingFallback == StreamingFallback.Ambiguous && ++_ambiguousStreamingFallbacks >= 2)
                {
                    _streamingFallback = StreamingFallback.Definite;
                    reason += "; the second time in a row";
                }

                if (_streamingFallback == StreamingFallback.Definite)
                {
                    StreamingListMemory.MarkUnsupported(_lease.Client);
                    Log.StreamingListUnsupported(_logger, _config.ServiceName, reason);
                }
                else
                {
                    Log.StreamingListFellBack(_logger, _config.ServiceName, reason);
                }

                continue;
            }

            if (beforeSnapshot && outcome == WatchOutcome.Expired)
            {
                // The partial initial state is dropped; start over at once, but not in a tight loop.
                Log.StreamingListExpired(_logger, _config.ServiceName);
                _listReason = WatchInstruments.GoneReason;
                _restartReason = null;
                if (++_expiredStreamingLists > 1)
                {
                    throw new WatchEndedEarlyException("Streaming lists of EndpointSlices expired (410 Gone) twice in a row before their initial events were complete.");
                }

                continue;
            }

            _restartReason = outcome switch
            {
                WatchOutcome.Expired => WatchInstruments.GoneReason,
                WatchOutcome.Idle => WatchInstruments.IdleReason,
                _ => quick ? WatchInstruments.ErrorReason : WatchInstruments.ServerTimeoutReason,
            };
            switch (outcome)
            {
                case WatchOutcome.Expired:
                    Log.WatchExpired(_logger, _config.ServiceName);
                    _resourceVersion = null;
                    _listReason = WatchInstruments.GoneReason;

                    // Expired at once although the resourceVersion is fresh from a LIST: a broken server or proxy.
                    if (listed && quick) throw new WatchEndedEarlyException("A watch from a fresh LIST was answered with 410 Gone at once.");
                    break;
                case WatchOutcome.Idle:
                    // Not an error to retry (the re-watch is immediate), but pods may be going unseen: say so.
                    Log.WatchIdle(_logger, _config.ServiceName, _config.IdleTimeout);
                    var stalled = DiscoveryFailureText.StalledWatch(_lease.Namespace, _config.ServiceName, _config.IdleTimeout);
                    observer.OnNext(DiscoverySignal.Failing(stalled, new TimeoutException(stalled)));
                    break;
                default:
                    // A server or proxy that closes watches at once would otherwise be hammered in a tight loop.
                    if (quick) throw new WatchEndedEarlyException("The watch of EndpointSlices ended at once without any event.");
                    Log.WatchEnded(_logger, _config.ServiceName, _resourceVersion);
                    break;
            }
        }
    }

    private async Task<(List<V1EndpointSlice> Slices, string? ResourceVersion)> ListAsync(CancellationToken cancellationToken)
    {
        var client = _lease.Client;
        var @namespace = _lease.Namespace;
        var service = _config.ServiceName;
        var reason = _listReason;
        CountRelist(reason, @namespace);

        // Until this LIST succeeds, the next one retries a failure; a 410 later says otherwise.
        _listReason = WatchInstruments.ErrorReason;
        using var activity = WatchActivities.Start(WatchActivities.ListName, service, @namespace, out _);
        if (activity is { IsAllDataRequested: true }) activity.SetTag(WatchActivities.ListReasonTag, reason);
        var slices = new List<V1EndpointSlice>();
        string? continueToken = null, resourceVersion = null;
        var restarts = 0;
        var pages = 0;
        try
        {
            while (true)
            {
                V1EndpointSliceList page;
                using (var pageCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                using (_scheduler.Schedule(_config.IdleTimeout, () => CancelQuietly(pageCancellation)))
                {
                    try
                    {
                        page = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(
                            namespaceParameter: @namespace,
                            continueParameter: continueToken,
                            labelSelector: _labelSelector,
                            limit: _config.ListPageSize,
                            cancellationToken: pageCancellation.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // A LIST that hangs must not keep the channel's calls waiting: fail it, report it, retry. Either
                        // our watchdog cancelled it, or KubernetesClient's own per-request timeout did (it cancels its own
                        // linked token, which leaves ours untouched): name the limit that fired.
                        WatchInstruments.RecordRequest(service, @namespace, WatchInstruments.ListVerb, ApiResult.Timeout);
                        throw new TimeoutException(pageCancellation.IsCancellationRequested
                            ? DiscoveryFailureText.ListTimedOut(_config.IdleTimeout)
                            : DiscoveryFailureText.ListTimedOutInClient(client));
                    }
                    catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.Gone && continueToken is not null && restarts < 3)
                    {
                        // The continue token expired mid-pagination: start the snapshot over.
                        WatchInstruments.RecordRequest(service, @namespace, WatchInstruments.ListVerb, ApiResult.Of(error));
                        activity?.AddEvent(new ActivityEvent(WatchActivities.ContinueExpiredEvent));
                        restarts++;
                        slices.Clear();
                        continueToken = null;
                        resourceVersion = null;
                        continue;
                    }
                    catch (Exception error) when (!cancellationToken.IsCancellationRequested)
                    {
                        WatchInstruments.RecordRequest(service, @namespace, WatchInstruments.ListVerb, ApiResult.Of(error));
                        throw;
                    }
                }

                WatchInstruments.RecordRequest(service, @namespace, WatchInstruments.ListVerb, ApiResult.Ok);
                pages++;
                slices.AddRange(page.Items?.Where(slice => slice is not null) ?? []);
                continueToken = page.Metadata?.ContinueProperty;
                resourceVersion = page.Metadata?.ResourceVersion;
                if (string.IsNullOrEmpty(continueToken)) break;
            }
        }
        catch (Exception error) when (activity is not null && !cancellationToken.IsCancellationRequested)
        {
            if (activity.IsAllDataRequested) activity.SetTag(WatchActivities.PagesTag, pages);
            WatchActivities.SetResult(activity, ApiResult.Of(error), error);
            throw;
        }

        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(WatchActivities.ResourceVersionTag, resourceVersion);
            activity.SetTag(WatchActivities.ItemsTag, slices.Count);
            activity.SetTag(WatchActivities.PagesTag, pages);
            WatchActivities.SetResult(activity, ApiResult.Ok, null);
        }

        Log.Listed(_logger, slices.Count, service, @namespace, resourceVersion);
        return (slices, string.IsNullOrEmpty(resourceVersion) ? null : resourceVersion);
    }

    /// <summary>
    /// One WATCH request. A streaming list (<paramref name="streaming"/>) is a WATCH with <c>sendInitialEvents=true</c>
    /// from no resourceVersion: its ADDED events are collected until the bookmark annotated
    /// <see cref="InitialEventsEndAnnotation"/>, which sets the resourceVersion and completes the snapshot (a reset,
    /// as after a LIST); from there on it is an ordinary watch. Before that bookmark the status stays as it was (no
    /// snapshot yet), and a server that rejects the request (400/422), sends a plain bookmark first, ends the response,
    /// or goes silent for <see cref="DiscoveryOptions.InitialEventsTimeout"/> does not support streaming lists
    /// (<see cref="WatchOutcome.StreamingUnsupported"/>).
    /// </summary>
    private async Task<(WatchOutcome Outcome, int SliceEvents)> WatchAsync(IObserver<DiscoverySignal> observer, bool streaming, CancellationToken cancellationToken)
    {
        var @namespace = _lease.Namespace;
        var service = _config.ServiceName;
        var listReason = _listReason;
        var restartReasonBefore = _restartReason;
        if (streaming)
        {
            // A streaming list is a (re)list, not a watch restart.
            CountRelist(listReason, @namespace);
            _listReason = WatchInstruments.ErrorReason;
        }
        else if (_restartReason is { } restartReason)
        {
            WatchInstruments.RecordRestart(service, @namespace, restartReason);
        }

        // Unless the session loop learns that it ended otherwise, the next watch follows a failure of this one.
        _restartReason = WatchInstruments.ErrorReason;

        using var activity = WatchActivities.Start(WatchActivities.WatchName, service, @namespace, out var outside);
        using var watchCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Cancelled before watchCancellation, always (created after it, so also first when cancellationToken fires):
        // it cancels a pending read of the response body before KubernetesClient's enumerator can abandon that read
        // and dispose the stream under it, which would hand the connection back to the pool with the stale read still
        // pending (see WatchResponseHeadersHandler). Only clients the library creates link it into their reads.
        using var readAbort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var watchdog = new SerialDisposable();
        var gate = new object();
        var current = true;
        var idle = false;
        var expired = false;
        var delivered = false;
        var sliceEvents = 0;
        var bookmarks = 0;

        // A streaming list's initial state, by slice name, until the initial-events-end bookmark completes it.
        var initial = streaming ? new Dictionary<string, V1EndpointSlice>(StringComparer.Ordinal) : null;
        var synced = !streaming;
        var progressed = false;
        var initialEventsTimedOut = false;
        string? unsupported = null;
        KubernetesException? serverError = null;
        ApiResult? result = null;
        Exception? failure = null;

        void Stop()
        {
            CancelQuietly(readAbort);
            CancelQuietly(watchCancellation);
        }

        // The LIST (and WATCH) that replace this streaming list list (and watch) for the same reasons.
        (WatchOutcome, int) FallBack(string reason, StreamingFallback fallback)
        {
            _streamingFallbackReason = reason;
            _streamingFallback = fallback;
            _listReason = listReason;
            _restartReason = restartReasonBefore;
            activity?.AddEvent(new ActivityEvent(WatchActivities.StreamingUnsupportedEvent));
            return (WatchOutcome.StreamingUnsupported, sliceEvents);
        }

        // Until a streaming list's server has answered (headers from the library's clients, else a first line), the idle
        // watchdog applies, as to any watch. Once it has, silence before the initial-events-end bookmark means a server
        // that does not honour sendInitialEvents; the timer only flags it, and the loop decides, so a bookmark read just
        // as the timer fires still completes the snapshot.
        void Arm() => watchdog.Disposable = synced || !progressed
            ? _scheduler.Schedule(_config.IdleTimeout, () =>
            {
                idle = true;
                activity?.AddEvent(new ActivityEvent(WatchActivities.IdleEvent));
                Stop();
            })
            : _scheduler.Schedule(_config.InitialEventsTimeout, () =>
            {
                lock (gate)
                {
                    if (synced) return;
                    initialEventsTimedOut = true;
                }

                Stop();
            });

        void OnError(Exception error)
        {
            switch (error)
            {
                case KubernetesException { Status.Code: 410 }:
                    // Arrives through onError, not as an event; a relist follows. The server ends the response right
                    // after it: read on to that end rather than cancel, so the connection goes back to the pool whole
                    // (a cancelled read could leave it behind half-read with a client that does not abort its reads).
                    // A server that keeps the response open is given up on after a short grace.
                    expired = true;
                    AddRelistEvent(activity, _resourceVersion);
                    watchdog.Disposable = _scheduler.Schedule(
                        ExpiredStreamGrace < _config.IdleTimeout ? ExpiredStreamGrace : _config.IdleTimeout,
                        Stop);
                    break;
                case KubernetesException kubernetesError:
                    serverError = kubernetesError;
                    Stop();
                    break;
                default:
                    // A malformed line: skip it, keep the stream.
                    Log.WatchEventSkipped(_logger, error, service);
                    activity?.AddEvent(new ActivityEvent(WatchActivities.EventSkippedEvent));
                    break;
            }
        }

        // Headers arrive on the handler's thread while this method awaits the first line. A request abandoned by
        // cancellation may still complete later: once this watch is over (not current) its headers say nothing.
        void OnResponseHeaders(HttpStatusCode status)
        {
            if (status != HttpStatusCode.OK) return;
            lock (gate)
            {
                if (!current || watchCancellation.IsCancellationRequested) return;
                activity?.AddEvent(new ActivityEvent(WatchActivities.EstablishedEvent));
                if (!synced)
                {
                    // A streaming list is healthy once its snapshot is complete, not on its headers; from now on it
                    // owes its initial events.
                    progressed = true;
                    Arm();
                    return;
                }

                using (WatchActivities.Outside(activity, outside)) MarkWatchHealthy(observer, DiscoverySignal.Healthy);
            }
        }

        // Random spread so that many clients do not re-watch in step.
        var timeoutSeconds = (int)Math.Min(int.MaxValue, Math.Ceiling(_config.WatchTimeout.TotalSeconds * (1 + Random.Shared.NextDouble())));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(WatchActivities.ResourceVersionTag, _resourceVersion);
            activity.SetTag(WatchActivities.InitialResourceVersionTag, _resourceVersion);
            activity.SetTag(WatchActivities.TimeoutSecondsTag, timeoutSeconds);
            if (streaming)
            {
                activity.SetTag(WatchActivities.SendInitialEventsTag, true);
                activity.SetTag(WatchActivities.ListReasonTag, listReason);
            }
        }

        Log.Watching(_logger, service, @namespace, _resourceVersion, timeoutSeconds);
        Arm();
        using var headers = WatchResponseHeadersHandler.Listen(OnResponseHeaders, readAbort.Token);
        try
        {
            try
            {
                // A streaming list asks for the newest state (no resourceVersion: a consistent read), as client-go does.
                var events = _lease.Client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                    namespaceParameter: @namespace,
                    allowWatchBookmarks: true,
                    labelSelector: _labelSelector,
                    resourceVersion: streaming ? null : _resourceVersion,
                    resourceVersionMatch: streaming ? "NotOlderThan" : null,
                    sendInitialEvents: streaming ? true : null,
                    timeoutSeconds: timeoutSeconds,
                    onError: OnError,
                    cancellationToken: watchCancellation.Token);

                await foreach (var (type, slice) in events.ConfigureAwait(false))
                {
                    // After a 410 nothing more counts (a relist follows); keep the grace timer, not the idle one.
                    if (expired || unsupported is not null) continue;
                    if (!synced)
                    {
                        // Every line counts as progress, the end bookmark too: a stream that ends right after it
                        // (an empty Service, a server draining) ended normally, not "at once without any event".
                        sliceEvents++;
                        if (!CollectInitialEvent(type, slice, initial!, ref unsupported))
                        {
                            lock (gate) progressed = true;
                            Arm();
                            continue;
                        }

                        if (unsupported is not null)
                        {
                            Stop();
                            continue;
                        }

                        // The initial-events-end bookmark: the snapshot is complete, and from here on this is a watch.
                        lock (gate) synced = true;
                        delivered = true;
                        bookmarks++;
                        _resourceVersion = slice!.Metadata?.ResourceVersion is { Length: > 0 } endVersion ? endVersion : null;
                        _expiredStreamingLists = 0;
                        _ambiguousStreamingFallbacks = 0;
                        Arm();
                        using (WatchActivities.Outside(activity, outside))
                        {
                            CompleteStreamingList(observer, activity, [.. initial!.Values], @namespace);
                        }

                        continue;
                    }

                    Arm();
                    using (WatchActivities.Outside(activity, outside))
                    {
                        if (!delivered)
                        {
                            delivered = true;
                            activity?.AddEvent(new ActivityEvent(WatchActivities.FirstEventEvent));
                            MarkWatchHealthy(observer, DiscoverySignal.WatchDelivering);
                        }

                        switch (type)
                        {
                            case WatchEventType.Added or WatchEventType.Modified when slice is not null:
                                sliceEvents++;
                                observer.OnNext(DiscoverySignal.Slice(SliceEvent.Upserted(slice)));
                                break;
                            case WatchEventType.Deleted when slice is not null:
                                sliceEvents++;
                                observer.OnNext(DiscoverySignal.Slice(SliceEvent.Deleted(slice)));
                                break;
                            case WatchEventType.Bookmark:
                                bookmarks++;
                                break;
                        }
                    }

                    if (slice?.Metadata?.ResourceVersion is { Length: > 0 } resourceVersion)
                    {
                        _resourceVersion = resourceVersion;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (expired || idle || serverError is not null || unsupported is not null || initialEventsTimedOut))
            {
                // Our own cancellation: the outcome flags below say why.
            }
            catch (HttpRequestException error) when (!delivered && error.InnerException is EndOfStreamException)
            {
                // KubernetesClient throws on a watch response with zero lines: for us that is a normal end (for a
                // streaming list, one that never sent its initial-events-end bookmark).
                result = ApiResult.Ok;
                if (!synced) return FallBack(DiscoveryFailureText.NoInitialEventsEndBeforeEnd, StreamingFallback.Ambiguous);
                return (WatchOutcome.Ended, 0);
            }
            catch (HttpOperationException error) when (!synced && IsClientError(error.Response?.StatusCode))
            {
                // A server whose WatchList feature is off answers 422 Invalid ("sendInitialEvents is forbidden ...").
                // Any other refusal (RBAC that allows list but not watch, say) gets one LIST for this attempt, as
                // client-go's reflector does, which succeeds or reports its own error.
                result = ApiResult.Of(error);
                var rejected = DiscoveryFailureText.StreamingListRejected(error);
                return FallBack(rejected, RejectsStreamingLists(error) ? StreamingFallback.Definite : StreamingFallback.ThisAttempt);
            }
            catch (HttpOperationException error) when (error.Response?.StatusCode == HttpStatusCode.Gone)
            {
                // Usually 410 arrives as an ERROR event; some proxies and servers answer the request with it instead.
                result = ApiResult.Of(error);
                AddRelistEvent(activity, _resourceVersion);
                return (WatchOutcome.Expired, sliceEvents);
            }
            finally
            {
                lock (gate) current = false;
            }

            if (serverError is not null) throw serverError;
            if (!synced && !expired && !idle)
            {
                if (unsupported is not null)
                {
                    result = ApiResult.Ok;
                    return FallBack(unsupported, StreamingFallback.Definite);
                }

                result = initialEventsTimedOut ? ApiResult.Timeout : ApiResult.Ok;
                return FallBack(
                    initialEventsTimedOut ? DiscoveryFailureText.NoInitialEventsEnd(_config.InitialEventsTimeout) : DiscoveryFailureText.NoInitialEventsEndBeforeEnd,
                    StreamingFallback.Ambiguous);
            }

            result = expired ? ApiResult.GoneEvent : idle ? ApiResult.Timeout : ApiResult.Ok;
            return (expired ? WatchOutcome.Expired : idle ? WatchOutcome.Idle : WatchOutcome.Ended, sliceEvents);
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            failure = error;
            result = ApiResult.Of(error);
            throw;
        }
        finally
        {
            // Cancelled because the subscription is being disposed: not a request outcome anybody should count.
            if (result is { } ended)
            {
                WatchInstruments.RecordRequest(service, @namespace, WatchInstruments.WatchVerb, ended);
                if (activity is not null) WatchActivities.SetResult(activity, ended, failure ?? serverError);
            }

            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag(WatchActivities.ResourceVersionTag, _resourceVersion);
                activity.SetTag(WatchActivities.EventsTag, sliceEvents);
                activity.SetTag(WatchActivities.BookmarksTag, bookmarks);
            }
        }
    }

    /// <summary>
    /// Takes one line of a streaming list's initial events into <paramref name="initial"/>.
    /// </summary>
    /// <returns><see langword="true"/> when the line ends the initial events: the initial-events-end bookmark, or a line
    /// that shows the server does not honour <c>sendInitialEvents</c> (<paramref name="unsupported"/> says why).</returns>
    private static bool CollectInitialEvent(WatchEventType type, V1EndpointSlice? slice, Dictionary<string, V1EndpointSlice> initial, ref string? unsupported)
    {
        switch (type)
        {
            case WatchEventType.Added or WatchEventType.Modified when slice?.Metadata?.Name is { } name:
                initial[name] = slice;
                return false;
            case WatchEventType.Deleted when slice?.Metadata?.Name is { } name:
                initial.Remove(name);
                return false;
            case WatchEventType.Bookmark:
                // The server sends this bookmark before any other: a plain one first means it ignored sendInitialEvents.
                if (slice?.Metadata?.Annotations?.TryGetValue(InitialEventsEndAnnotation, out var end) == true
                    && string.Equals(end, "true", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                unsupported = DiscoveryFailureText.PlainBookmarkFirst;
                return true;
            default:
                return false;
        }
    }

    private void CompleteStreamingList(IObserver<DiscoverySignal> observer, Activity? activity, List<V1EndpointSlice> slices, string @namespace)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.AddEvent(new ActivityEvent(WatchActivities.InitialEventsEndEvent, tags: new ActivityTagsCollection
            {
                [WatchActivities.ItemsTag] = slices.Count,
                [WatchActivities.ResourceVersionTag] = _resourceVersion,
            }));
        }

        Log.Streamed(_logger, slices.Count, _config.ServiceName, @namespace, _resourceVersion);
        observer.OnNext(DiscoverySignal.Slice(SliceEvent.Reset(slices), @namespace));
        MarkWatchHealthy(observer, DiscoverySignal.WatchDelivering);
    }

    /// <summary>A 4xx answer other than 410 Gone and 429 Too Many Requests (which are retried as they are).</summary>
    private static bool IsClientError(HttpStatusCode? status) =>
        status is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError and not HttpStatusCode.Gone and not HttpStatusCode.TooManyRequests;

    /// <summary>
    /// A 400 or 422 that names the streaming-list parameters: the server rejects streaming lists as such (apimachinery's
    /// validation of watch options: "sendInitialEvents is forbidden for watch unless the WatchList feature gate is
    /// enabled", or an older server's "resourceVersionMatch is forbidden for watch").
    /// </summary>
    private static bool RejectsStreamingLists(HttpOperationException error) =>
        error.Response?.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity
        && error.Response.Content is { } body
        && (body.Contains("sendInitialEvents", StringComparison.Ordinal) || body.Contains("resourceVersionMatch", StringComparison.Ordinal));

    private static void AddRelistEvent(Activity? activity, string? resourceVersion)
    {
        if (activity is not { IsAllDataRequested: true }) return;
        activity.AddEvent(new ActivityEvent(WatchActivities.RelistEvent, tags: new ActivityTagsCollection { [WatchActivities.ResourceVersionTag] = resourceVersion }));
    }

    /// <summary>
    /// Counts a list (LIST or streaming) after the discovery's first as a relist, by why it runs; once: the LIST that
    /// replaces a streaming list that fell back is the same relist.
    /// </summary>
    private void CountRelist(string reason, string @namespace)
    {
        if (!_relistCounted && !string.Equals(reason, WatchActivities.InitialReason, StringComparison.Ordinal)) WatchInstruments.RecordRelist(_config.ServiceName, @namespace, reason);
        _relistCounted = false;
    }

    /// <summary>A timer may fire just as the request it guards completes and its token source is disposed.</summary>
    private static void CancelQuietly(CancellationTokenSource cancellation)
    {
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished: nothing to cancel.
        }
    }

    /// <summary>The watch is established: report healthy, and let the next refusal be logged at error level again.</summary>
    private void MarkWatchHealthy(IObserver<DiscoverySignal> observer, DiscoverySignal signal)
    {
        _refusalReported = false;
        _healthySinceFailure = true;
        observer.OnNext(signal);
    }

    private void ReportFailure(IObserver<DiscoverySignal> observer, RetryAttempt attempt)
    {
        var refused = WatchRetryPolicy.IsRefused(attempt.Exception);
        if (WatchInstruments.BackoffDelay.Enabled)
        {
            var kind = refused ? WatchInstruments.RefusedReason
                : RetryAfterHeader.Of(attempt.Exception, _scheduler.Now) is not null ? WatchInstruments.ThrottledReason
                : WatchInstruments.ErrorReason;
            WatchInstruments.RecordBackoff(_config.ServiceName, _namespace, kind, attempt.Delay);
        }

        var reason = DiscoveryFailureText.Describe(attempt.Exception, _config.ServiceName, _namespace ?? _config.Namespace);
        if (!refused)
        {
            Log.TransientFailure(_logger, attempt.Exception, _config.ServiceName, attempt.Attempt, attempt.Delay, reason);
        }
        else if (_refusalReported)
        {
            Log.PermanentFailureRepeated(_logger, attempt.Exception, _config.ServiceName, attempt.Attempt, attempt.Delay, reason);
        }
        else
        {
            // Once per streak: a pod started before its RoleBinding should not fill the log with the same error.
            _refusalReported = true;
            Log.PermanentFailure(_logger, attempt.Exception, _config.ServiceName, attempt.Attempt, attempt.Delay, reason);
        }

        observer.OnNext(DiscoverySignal.Failing(reason, attempt.Exception));
    }
}
