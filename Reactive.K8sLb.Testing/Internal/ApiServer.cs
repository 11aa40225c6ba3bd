using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>The Kestrel host and the HTTP side of the emulated API: routing, LIST, WATCH, discovery and faults.</summary>
internal sealed class ApiServer : IDisposable
{
    private const string V1Prefix = "/apis/discovery.k8s.io/v1";
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly ObjectStore _store;
    private readonly FaultInjector _faults;
    private readonly KubernetesApiEmulatorOptions _options;
    private readonly Action<WatchEventWritten> _written;
    private readonly RequestLog _requests;
    private WebApplication? _app;
    private CancellationTokenSource _stopping = new();
    private long _nextWatcherId;
    private long _responseBodyBytes;
    private int _heldLists;

    public ApiServer(ObjectStore store, FaultInjector faults, KubernetesApiEmulatorOptions options, Action<WatchEventWritten> written)
    {
        _store = store;
        _faults = faults;
        _options = options;
        _written = written;
        _requests = new RequestLog(options.RequestLogLimit);
    }

    public OpenWatchTracker OpenWatches { get; } = new();

    public IReadOnlyList<RecordedRequest> Requests => _requests.Snapshot();

    /// <summary>Gets the number of LIST requests being held by a stall right now.</summary>
    public int HeldListCount => Volatile.Read(ref _heldLists);

    public void ClearRequests() => _requests.Clear();

    /// <summary>Starts Kestrel on 127.0.0.1 and returns the bound port (a free one when <paramref name="port"/> is 0).</summary>
    public async Task<int> StartAsync(int port, CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            _stopping.Dispose();
            _stopping = new CancellationTokenSource();
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton<IHostLifetime, NoopHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address).Port;
    }

    /// <summary>Aborts every watch and stops Kestrel promptly.</summary>
    public async Task StopAsync()
    {
        var app = _app;
        _app = null;
        OpenWatches.AbortAll();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await app.StopAsync(cts.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Queues a non-JSON line to every open (non-stalled) watch.</summary>
    public void SendMalformedLine()
    {
        foreach (var w in _store.Watchers)
        {
            w.Enqueue(WatchLine.Malformed());
        }
    }

    private static Dictionary<string, string> ParseQuery(HttpRequest request)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Query)
        {
            query[key] = value.Count > 0 ? value[^1] ?? string.Empty : string.Empty;
        }

        return query;
    }

    private static bool IsTrue(Dictionary<string, string> query, string key) =>
        query.TryGetValue(key, out var v) && (v == "true" || v == "1");

    /// <summary>Response body bytes written so far, every response (LIST, WATCH lines, Status, discovery documents).</summary>
    public long ResponseBodyBytes => Interlocked.Read(ref _responseBodyBytes);

    private async Task WriteJsonAsync(HttpContext context, int statusCode, string json)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        Interlocked.Add(ref _responseBodyBytes, bytes.Length);
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private Task WriteStatusAsync(HttpContext context, int statusCode, string message, string? reason = null) =>
        WriteJsonAsync(context, statusCode, ApiStatus.Json(ApiStatus.Failure(statusCode, message, reason)));

    /// <summary>Writes an armed failure; with a retry delay, as the API server's error writer does: header and Status details.</summary>
    private Task WriteFailureAsync(HttpContext context, FaultInjector.FailureRule failure)
    {
        var status = ApiStatus.Failure(failure.StatusCode, failure.Message);
        if (failure.RetryAfterSeconds is { } seconds)
        {
            status.Details = new V1StatusDetails { RetryAfterSeconds = seconds };
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return WriteJsonAsync(context, failure.StatusCode, ApiStatus.Json(status));
    }

    /// <summary>Records a request, or updates <paramref name="held"/>, the entry logged on arrival for a stalled LIST.</summary>
    private RequestLog.Entry Record(HttpContext context, Dictionary<string, string> query, RequestKind kind, int statusCode, long timestamp, RequestLog.Entry? held = null)
    {
        var userAgent = context.Request.Headers.UserAgent.ToString();
        var request = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "/", query, kind, statusCode, timestamp)
        {
            UserAgent = userAgent.Length == 0 ? null : userAgent,
        };
        if (held is null)
        {
            return _requests.Add(request);
        }

        _requests.Replace(held, request);
        return held;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var timestamp = Stopwatch.GetTimestamp();
        var query = ParseQuery(context.Request);
        var path = (context.Request.Path.Value ?? "/").TrimEnd('/');
        var collection = TryParseCollection(path, out var ns, out var name, out var watchPath);
        var watch = collection && name is null && (watchPath || IsTrue(query, "watch"));
        var kind = !collection || name is not null ? RequestKind.Other : watch ? RequestKind.Watch : RequestKind.List;

        var (status, document) = (path, context.Request.Method) switch
        {
            (_, not "GET") when collection => (405, null),
            ("/version", "GET") => (200, DiscoveryDocuments.Version),
            ("/api", "GET") => (200, DiscoveryDocuments.Api),
            ("/apis", "GET") => (200, DiscoveryDocuments.Apis),
            ("/apis/discovery.k8s.io", "GET") => (200, DiscoveryDocuments.DiscoveryGroup),
            (V1Prefix, "GET") => (200, DiscoveryDocuments.DiscoveryV1Resources),
            _ when collection => (0, null),
            _ => (404, null),
        };

        if (status == 200)
        {
            Record(context, query, kind, 200, timestamp);
            await WriteJsonAsync(context, 200, document!).ConfigureAwait(false);
            return;
        }

        if (status is 404 or 405)
        {
            Record(context, query, kind, status, timestamp);
            await WriteStatusAsync(context, status, status == 404 ? "the server could not find the requested resource" : "the server does not allow this method on the requested resource").ConfigureAwait(false);
            return;
        }

        RequestLog.Entry? held = null;
        if (kind == RequestKind.List)
        {
            Task? lifted;
            lock (_store.Gate)
            {
                lifted = _faults.ListStallsLifted();
            }

            if (lifted is not null)
            {
                held = Record(context, query, kind, 0, timestamp);
                if (!await HoldAsync(context, lifted).ConfigureAwait(false))
                {
                    return;
                }
            }
        }

        if (kind != RequestKind.Other)
        {
            FaultInjector.FailureRule? failure;
            lock (_store.Gate)
            {
                failure = _faults.TakeFailure();
            }

            if (failure is not null)
            {
                Record(context, query, kind, failure.StatusCode, timestamp, held);
                await WriteFailureAsync(context, failure).ConfigureAwait(false);
                return;
            }
        }

        if (!LabelSelector.TryParse(query.GetValueOrDefault("labelSelector"), out var labels, out var error)
            || !FieldSelector.TryParse(query.GetValueOrDefault("fieldSelector"), out var fields, out error))
        {
            Record(context, query, kind, 400, timestamp, held);
            await WriteStatusAsync(context, 400, error!).ConfigureAwait(false);
            return;
        }

        switch (kind)
        {
            case RequestKind.Watch:
                await WatchAsync(context, query, ns, labels, fields, timestamp).ConfigureAwait(false);
                break;
            case RequestKind.List:
                await ListAsync(context, query, ns, labels, fields, timestamp, held).ConfigureAwait(false);
                break;
            default:
                await GetAsync(context, query, ns!, name!, timestamp).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// Sends nothing, not even headers, until <paramref name="lifted"/> completes (true: answer the request now). False
    /// when the client went away first, or when the emulator stops (then the connection is aborted, as a restarting API
    /// server drops it).
    /// </summary>
    private async Task<bool> HoldAsync(HttpContext context, Task lifted)
    {
        var stopping = _stopping.Token;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        Interlocked.Increment(ref _heldLists);
        try
        {
            await lifted.WaitAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            if (stopping.IsCancellationRequested)
            {
                context.Abort();
            }

            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _heldLists);
        }
    }

    /// <summary>Recognizes <c>.../endpointslices[/name]</c>, namespaced or cluster wide, and the legacy <c>/watch/</c> form.</summary>
    private static bool TryParseCollection(string path, out string? ns, out string? name, out bool watchPath)
    {
        ns = null;
        name = null;
        watchPath = false;
        if (!path.StartsWith(V1Prefix + "/", StringComparison.Ordinal))
        {
            return false;
        }

        var segments = path[(V1Prefix.Length + 1)..].Split('/');
        var i = 0;
        if (segments[i] == "watch")
        {
            watchPath = true;
            i++;
        }

        if (i + 1 < segments.Length && segments[i] == "namespaces")
        {
            ns = segments[i + 1];
            i += 2;
        }

        if (i >= segments.Length || segments[i] != "endpointslices")
        {
            return false;
        }

        if (i + 1 < segments.Length)
        {
            if (ns is null || i + 2 != segments.Length || watchPath)
            {
                return false;
            }

            name = segments[i + 1];
        }

        return true;
    }

    private async Task GetAsync(HttpContext context, Dictionary<string, string> query, string ns, string name, long timestamp)
    {
        string? json;
        lock (_store.Gate)
        {
            json = _store.Get(ns, name)?.Json;
        }

        Record(context, query, RequestKind.Other, json is null ? 404 : 200, timestamp);
        if (json is null)
        {
            await WriteStatusAsync(context, 404, $"endpointslices.discovery.k8s.io \"{name}\" not found").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, 200, json).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext context, Dictionary<string, string> query, string? ns, LabelSelector labels, FieldSelector fields, long timestamp, RequestLog.Entry? held)
    {
        var (code, body) = BuildList(query, ns, labels, fields);
        Record(context, query, RequestKind.List, code, timestamp, held);
        await WriteJsonAsync(context, code, body).ConfigureAwait(false);
    }

    private (int Code, string Body) BuildList(Dictionary<string, string> query, string? ns, LabelSelector labels, FieldSelector fields)
    {
        long limit = 0;
        if (query.TryGetValue("limit", out var limitText) && limitText.Length > 0
            && (!long.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit)))
        {
            return (400, ApiStatus.Json(ApiStatus.Failure(400, $"invalid limit: {limitText}")));
        }

        var continueText = query.GetValueOrDefault("continue");
        var rvText = query.GetValueOrDefault("resourceVersion");
        var match = query.GetValueOrDefault("resourceVersionMatch");
        (string Ns, string Name)? after = null;

        lock (_store.Gate)
        {
            long atRevision = _store.ResourceVersion;
            if (!string.IsNullOrEmpty(continueText))
            {
                if (!ContinueToken.TryDecode(continueText, out atRevision, out var lastKey))
                {
                    return (400, ApiStatus.Json(ApiStatus.Failure(400, "continue key is not valid: illegal base64 data", "BadRequest")));
                }

                after = lastKey;
            }
            else if (!string.IsNullOrEmpty(rvText) && rvText != "0")
            {
                if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var requested))
                {
                    return (400, ApiStatus.Json(ApiStatus.Failure(400, $"resourceVersion: Invalid value: \"{rvText}\": must be a valid resource version", "BadRequest")));
                }

                if (requested > _store.ResourceVersion)
                {
                    return (504, ApiStatus.Json(ApiStatus.Failure(504, $"Too large resource version: {requested}, current: {_store.ResourceVersion}", "Timeout")));
                }

                // Exact serves the snapshot at that RV; NotOlderThan (and the legacy default) serves the latest state.
                if (match == "Exact")
                {
                    atRevision = requested;
                }
            }

            var snapshot = _store.SnapshotAt(atRevision);
            if (snapshot is null)
            {
                var message = after is null
                    ? $"too old resource version: {atRevision} ({_store.CompactedRevision + 1})"
                    : "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";
                return (410, ApiStatus.Json(ApiStatus.Failure(410, message, "Expired")));
            }

            var items = new List<StoredObject>();
            string? next = null;
            foreach (var o in snapshot)
            {
                if (after is { } a && IsAtOrBefore((o.Namespace, o.Name), a))
                {
                    continue;
                }

                if ((ns is not null && o.Namespace != ns) || !fields.Matches(o.Slice.Metadata) || !labels.Matches(o.Slice.Metadata.Labels))
                {
                    continue;
                }

                if (limit > 0 && items.Count == limit)
                {
                    var last = items[^1];
                    next = ContinueToken.Encode(atRevision, last.Namespace, last.Name);
                    break;
                }

                items.Add(o);
            }

            return (200, SerializeList(items, atRevision, next));
        }
    }

    private static bool IsAtOrBefore((string Ns, string Name) key, (string Ns, string Name) last)
    {
        var c = string.CompareOrdinal(key.Ns, last.Ns);
        return c < 0 || (c == 0 && string.CompareOrdinal(key.Name, last.Name) <= 0);
    }

    /// <summary>Writes the list by hand around the cached item JSON (no re-serialization of every object per LIST).</summary>
    private static string SerializeList(List<StoredObject> items, long resourceVersion, string? next)
    {
        var meta = new V1ListMeta
        {
            ResourceVersion = resourceVersion.ToString(CultureInfo.InvariantCulture),
            ContinueProperty = next,
        };
        var sb = new StringBuilder();
        sb.Append("{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSliceList\",\"metadata\":")
          .Append(KubernetesJson.Serialize(meta))
          .Append(",\"items\":[");
        for (var i = 0; i < items.Count; i++)
        {
            sb.Append(i == 0 ? string.Empty : ",").Append(items[i].Json);
        }

        return sb.Append("]}").ToString();
    }

    private async Task WatchAsync(HttpContext context, Dictionary<string, string> query, string? ns, LabelSelector labels, FieldSelector fields, long timestamp)
    {
        var rvText = query.GetValueOrDefault("resourceVersion");
        var bookmarks = IsTrue(query, "allowWatchBookmarks");
        var sendInitialEvents = false;
        if (_options.StreamingLists != StreamingListSupport.Ignored)
        {
            if (ValidateWatchListOptions(query, bookmarks) is { } invalid)
            {
                Record(context, query, RequestKind.Watch, 422, timestamp);
                await WriteStatusAsync(context, 422, invalid, "Invalid").ConfigureAwait(false);
                return;
            }

            sendInitialEvents = IsTrue(query, "sendInitialEvents");
        }

        long? from = null;
        if (!sendInitialEvents && !string.IsNullOrEmpty(rvText) && rvText != "0")
        {
            if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                Record(context, query, RequestKind.Watch, 400, timestamp);
                await WriteStatusAsync(context, 400, $"resourceVersion: Invalid value: \"{rvText}\": must be a valid resource version", "BadRequest").ConfigureAwait(false);
                return;
            }

            from = parsed;
        }

        TimeSpan? timeout = null;
        if (query.TryGetValue("timeoutSeconds", out var timeoutText)
            && long.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            timeout = TimeSpan.FromSeconds(seconds);
        }

        var id = Interlocked.Increment(ref _nextWatcherId);
        var watcher = new Watcher(id, ns, labels, fields);
        using var timeoutCts = timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeoutCts.Token, _stopping.Token);
        var token = linked.Token;
        bool stall;
        string? expired = null;
        List<WatchLine>? beforeExpiry = null;
        lock (_store.Gate)
        {
            stall = _faults.StallNextWatch;
            _faults.StallNextWatch = false;
            if (!stall && sendInitialEvents && _faults.ExpireNextStreamingListAfter is { } sent)
            {
                // Part of the initial state, then 410 before the initial-events-end bookmark.
                _faults.ExpireNextStreamingListAfter = null;
                beforeExpiry = [.. _store.CurrentStateFor(watcher).Take(sent)];
                expired = ApiStatus.TooOldResourceVersion(0, _store.ResourceVersion);
            }
            else if (!stall && _faults.ExpireNextWatch)
            {
                _faults.ExpireNextWatch = false;
                expired = ApiStatus.TooOldResourceVersion(from ?? 0, _store.ResourceVersion);
            }
            else if (!stall)
            {
                // With a delay, the initial-events-end bookmark comes from the bookmark loop, as kube-apiserver's comes on
                // its bookmark tick.
                expired = _store.AddWatcher(watcher, from, sendInitialEvents && bookmarks && _options.InitialEventsEndDelay == TimeSpan.Zero);
            }
        }

        // Nothing that can throw between registering the watcher and the try whose finally unregisters it.
        Task? bookmarkLoop = null;
        try
        {
            Record(context, query, RequestKind.Watch, 200, timestamp);
            OpenWatches.Add(id, context);
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(token).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(token).ConfigureAwait(false);

            if (stall)
            {
                // Headers out, then silence: the client's only way out is its own timeout or cancellation.
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            if (expired is not null)
            {
                foreach (var line in beforeExpiry ?? [])
                {
                    await WriteLineAsync(context, id, line, token).ConfigureAwait(false);
                }

                await WriteLineAsync(context, id, WatchLine.Error(expired), token).ConfigureAwait(false);
                return;
            }

            if (bookmarks)
            {
                bookmarkLoop = BookmarkLoopAsync(watcher, sendInitialEvents && _options.InitialEventsEndDelay > TimeSpan.Zero, token);
            }

            await foreach (var line in watcher.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                await WriteLineAsync(context, id, line, token).ConfigureAwait(false);
                if (line.EndsStream)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Client gone, timeoutSeconds elapsed or emulator stopping: the response just ends.
        }
        catch (IOException)
        {
            // The connection was aborted under us (DropAllWatches).
        }
        finally
        {
            lock (_store.Gate)
            {
                _store.RemoveWatcher(watcher);
            }

            await linked.CancelAsync().ConfigureAwait(false);
            if (bookmarkLoop is not null)
            {
                await bookmarkLoop.ConfigureAwait(false);
            }

            OpenWatches.Remove(id);
        }
    }

    /// <summary>
    /// The API server's checks of a watch's list options (apimachinery's <c>validateWatchOptions</c>): the message of
    /// its 422 Invalid answer, or <see langword="null"/> when they pass. A server without the WatchList feature refuses
    /// <c>sendInitialEvents</c> outright.
    /// </summary>
    private string? ValidateWatchListOptions(Dictionary<string, string> query, bool bookmarks)
    {
        var errors = new List<string>();
        var hasSendInitialEvents = query.ContainsKey("sendInitialEvents");
        var match = query.GetValueOrDefault("resourceVersionMatch");
        if (hasSendInitialEvents)
        {
            if (match != "NotOlderThan")
            {
                errors.Add("resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
            }

            if (_options.StreamingLists == StreamingListSupport.Rejected)
            {
                errors.Add("sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled");
            }
        }

        if (!string.IsNullOrEmpty(match))
        {
            if (!hasSendInitialEvents)
            {
                errors.Add("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
            }

            if (match != "NotOlderThan")
            {
                errors.Add($"resourceVersionMatch: Unsupported value: \"{match}\": supported values: \"NotOlderThan\"");
            }

            if (!bookmarks)
            {
                errors.Add("allowWatchBookmarks: Forbidden: allowWatchBookmarks must be set to true when resourceVersionMatch is set");
            }
        }

        return errors.Count == 0
            ? null
            : "ListOptions.meta.k8s.io \"\" is invalid: " + (errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]");
    }

    /// <param name="watcher">The watch.</param>
    /// <param name="initialEventsEndFirst">Send the initial-events-end bookmark after <see cref="KubernetesApiEmulatorOptions.InitialEventsEndDelay"/>
    /// (changes committed meanwhile go before it), and the periodic ones only after it.</param>
    /// <param name="token">Ends with the watch.</param>
    private async Task BookmarkLoopAsync(Watcher watcher, bool initialEventsEndFirst, CancellationToken token)
    {
        try
        {
            if (initialEventsEndFirst)
            {
                await Task.Delay(_options.InitialEventsEndDelay, token).ConfigureAwait(false);
                lock (_store.Gate)
                {
                    watcher.Enqueue(WatchLine.Bookmark(_store.ResourceVersion, initialEventsEnd: true));
                }
            }

            while (true)
            {
                await Task.Delay(_options.BookmarkInterval, token).ConfigureAwait(false);
                lock (_store.Gate)
                {
                    // Queued under the lock behind every event already committed, so the RV never runs ahead of them.
                    watcher.Enqueue(WatchLine.Bookmark(_store.ResourceVersion, initialEventsEnd: false));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Watch ended.
        }
    }

    private async Task WriteLineAsync(HttpContext context, long watcherId, WatchLine line, CancellationToken token)
    {
        var bytes = Encoding.UTF8.GetBytes(line.Text);
        Interlocked.Add(ref _responseBodyBytes, bytes.Length + NewLine.Length);
        await context.Response.Body.WriteAsync(bytes, token).ConfigureAwait(false);
        await context.Response.Body.WriteAsync(NewLine, token).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
        if (line.Notify)
        {
            _written(new WatchEventWritten(watcherId, line.Type, line.SliceName, line.ResourceVersion, Stopwatch.GetTimestamp()));
        }
    }
}
