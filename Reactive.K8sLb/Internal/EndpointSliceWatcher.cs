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
/// The list/watch protocol for one Service's EndpointSlices, as an informer would run it: LIST (paginated), then WATCH
/// from the list's resourceVersion with bookmarks; a normal end of the watch resumes from the last resourceVersion
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

    // Whether a watch was healthy since the last failure: its first retry then spreads over Backoff.FirstRetryWindow.
    private volatile bool _healthySinceFailure;

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
            if (_resourceVersion is null)
            {
                var (slices, resourceVersion) = await ListAsync(cancellationToken).ConfigureAwait(false);
                _resourceVersion = resourceVersion;
                listed = true;
                observer.OnNext(DiscoverySignal.Slice(SliceEvent.Reset(slices), _lease.Namespace));
            }

            var started = _scheduler.Now;
            var (outcome, sliceEvents) = await WatchAsync(observer, cancellationToken).ConfigureAwait(false);
            var quick = sliceEvents == 0 && _scheduler.Now - started < MinimumWatchDuration;
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
        if (!string.Equals(reason, WatchActivities.InitialReason, StringComparison.Ordinal)) WatchInstruments.RecordRelist(service, @namespace, reason);

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

    private async Task<(WatchOutcome Outcome, int SliceEvents)> WatchAsync(IObserver<DiscoverySignal> observer, CancellationToken cancellationToken)
    {
        var @namespace = _lease.Namespace;
        var service = _config.ServiceName;
        if (_restartReason is { } restartReason) WatchInstruments.RecordRestart(service, @namespace, restartReason);

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
        KubernetesException? serverError = null;
        ApiResult? result = null;
        Exception? failure = null;

        void Stop()
        {
            CancelQuietly(readAbort);
            CancelQuietly(watchCancellation);
        }

        void Arm() => watchdog.Disposable = _scheduler.Schedule(_config.IdleTimeout, () =>
        {
            idle = true;
            activity?.AddEvent(new ActivityEvent(WatchActivities.IdleEvent));
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
        }

        Log.Watching(_logger, service, @namespace, _resourceVersion, timeoutSeconds);
        Arm();
        using var headers = WatchResponseHeadersHandler.Listen(OnResponseHeaders, readAbort.Token);
        try
        {
            try
            {
                var events = _lease.Client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                    namespaceParameter: @namespace,
                    allowWatchBookmarks: true,
                    labelSelector: _labelSelector,
                    resourceVersion: _resourceVersion,
                    timeoutSeconds: timeoutSeconds,
                    onError: OnError,
                    cancellationToken: watchCancellation.Token);

                await foreach (var (type, slice) in events.ConfigureAwait(false))
                {
                    // After a 410 nothing more counts (a relist follows); keep the grace timer, not the idle one.
                    if (expired) continue;
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
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (expired || idle || serverError is not null))
            {
                // Our own cancellation: the outcome flags below say why.
            }
            catch (HttpRequestException error) when (!delivered && error.InnerException is EndOfStreamException)
            {
                // KubernetesClient throws on a watch response with zero lines: for us that is a normal end.
                result = ApiResult.Ok;
                return (WatchOutcome.Ended, 0);
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

    private static void AddRelistEvent(Activity? activity, string? resourceVersion)
    {
        if (activity is not { IsAllDataRequested: true }) return;
        activity.AddEvent(new ActivityEvent(WatchActivities.RelistEvent, tags: new ActivityTagsCollection { [WatchActivities.ResourceVersionTag] = resourceVersion }));
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
