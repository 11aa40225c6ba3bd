using System.Globalization;
using k8s;
using k8s.Models;
using Reactive.K8sLb.Testing.Internal;

namespace Reactive.K8sLb.Testing;

/// <summary>
/// An in-process Kubernetes API server for EndpointSlices: a real HTTP/1.1 endpoint on 127.0.0.1 serving LIST and WATCH
/// with the API server's resourceVersion, history, bookmark and error semantics, a Service/pod model sliced like the
/// EndpointSlice controller, and fault injection (dropped, expired, stalled, malformed and failing watches).
/// </summary>
/// <remarks>All members are thread-safe. Dispose it to stop the server and end every watch.</remarks>
public sealed class KubernetesApiEmulator : IAsyncDisposable
{
    private readonly KubernetesApiEmulatorOptions _options;
    private readonly ObjectStore _store;
    private readonly FaultInjector _faults = new();
    private readonly NameGenerator _names;
    private readonly ApiServer _server;
    private readonly Dictionary<(string Ns, string Name), EmulatedService> _services = [];
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private int _port;
    private bool _disposed;

    private KubernetesApiEmulator(KubernetesApiEmulatorOptions options)
    {
        _options = options;
        _store = new ObjectStore(options.HistoryLimit, options.TimeProvider);
        _names = new NameGenerator(options.RandomSeed);
        _server = new ApiServer(_store, _faults, options, e => EventWritten?.Invoke(e));
    }

    /// <summary>
    /// Raised after each watch event line (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) is flushed to a watcher, on the
    /// watcher's thread. Handlers must be quick and thread-safe.
    /// </summary>
    public event Action<WatchEventWritten>? EventWritten;

    /// <summary>Gets the base address of the server, <c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Gets a client configuration pointing at the emulator, with the default namespace of the options.</summary>
    public KubernetesClientConfiguration ClientConfiguration => new()
    {
        Host = BaseUri.ToString(),
        Namespace = _options.DefaultNamespace,
    };

    /// <summary>
    /// Gets the number of response body bytes the emulator has written since it started, over every request: LIST
    /// pages, watch lines (events, bookmarks, errors), Status answers and discovery documents; HTTP headers and chunk
    /// framing are not counted. Read it before and after a scenario to measure what a fleet of clients costs to serve.
    /// </summary>
    public long ResponseBodyBytes => _server.ResponseBodyBytes;

    /// <summary>Gets the number of open watch connections (stalled ones included).</summary>
    public int OpenWatchCount => _server.OpenWatches.Count;

    /// <summary>
    /// Gets a snapshot of the requests received since the start or the last <see cref="ClearRequests"/>, in arrival order:
    /// at most <see cref="KubernetesApiEmulatorOptions.RequestLogLimit"/> of them (10,000 by default), the most recent
    /// ones; older requests are dropped first.
    /// </summary>
    /// <remarks>
    /// A request is recorded once its answer is decided (a watch when its stream starts). A LIST held by
    /// <see cref="StallLists"/> is recorded when it arrives, with <see cref="RecordedRequest.StatusCode"/> 0, and updated
    /// in place when it is answered.
    /// </remarks>
    public IReadOnlyList<RecordedRequest> Requests => _server.Requests;

    // Internal for testing: the watchers registered in the store (one per open watch that is neither stalled nor expired).
    internal int RegisteredWatcherCount
    {
        get
        {
            lock (_store.Gate)
            {
                return _store.Watchers.Count();
            }
        }
    }

    // Internal for testing: LIST requests held by StallLists right now.
    internal int HeldListCount => _server.HeldListCount;

    /// <summary>Gets the current global resourceVersion (0 before the first write).</summary>
    public long CurrentResourceVersion
    {
        get
        {
            lock (_store.Gate)
            {
                return _store.ResourceVersion;
            }
        }
    }

    /// <summary>Starts an emulator on a free (or the configured) loopback port.</summary>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running emulator.</returns>
    public static async Task<KubernetesApiEmulator> StartAsync(KubernetesApiEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        // A private copy: later changes to the caller's instance must not alter a running emulator.
        options = (options ?? new KubernetesApiEmulatorOptions()).Clone();
        options.Validate();
        var emulator = new KubernetesApiEmulator(options);
        await emulator.StartServerAsync(options.Port, cancellationToken).ConfigureAwait(false);
        return emulator;
    }

    /// <summary>The message of the API server's 403 when a service account may not list EndpointSlices.</summary>
    /// <param name="namespace">The namespace of the request.</param>
    /// <param name="serviceAccount">The service account as <c>namespace:name</c>.</param>
    /// <returns>The message text.</returns>
    public static string ForbiddenListMessage(string @namespace = "default", string serviceAccount = "default:default") =>
        $"endpointslices.discovery.k8s.io is forbidden: User \"system:serviceaccount:{serviceAccount}\" cannot list resource \"endpointslices\" in API group \"discovery.k8s.io\" in the namespace \"{@namespace}\"";

    /// <summary>Creates a client for the emulator.</summary>
    /// <returns>A new <see cref="IKubernetes"/>; the caller disposes it.</returns>
    public IKubernetes CreateClient() => new Kubernetes(ClientConfiguration);

    /// <summary>Creates a Service; its placeholder EndpointSlice is published at once.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The Service name.</param>
    /// <param name="ports">The Service ports, copied into every slice.</param>
    /// <returns>The model of the Service.</returns>
    /// <exception cref="InvalidOperationException">The Service already exists.</exception>
    public EmulatedService AddService(string @namespace, string name, params EmulatedServicePort[] ports)
    {
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(ports);
        lock (_store.Gate)
        {
            if (_services.ContainsKey((@namespace, name)))
            {
                throw new InvalidOperationException($"Service {@namespace}/{name} already exists.");
            }

            var service = new EmulatedService(_store, _names, _options.MaxEndpointsPerSlice, @namespace, name, [.. ports]);
            _services[(@namespace, name)] = service;
            return service;
        }
    }

    /// <summary>Gets an existing Service.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The Service name.</param>
    /// <returns>The model of the Service.</returns>
    /// <exception cref="KeyNotFoundException">No such Service.</exception>
    public EmulatedService GetService(string @namespace, string name)
    {
        lock (_store.Gate)
        {
            return _services.TryGetValue((@namespace, name), out var s)
                ? s
                : throw new KeyNotFoundException($"Service {@namespace}/{name} does not exist.");
        }
    }

    /// <summary>Deletes a Service and all its EndpointSlices (one DELETED per slice).</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The Service name.</param>
    public void RemoveService(string @namespace, string name)
    {
        lock (_store.Gate)
        {
            GetService(@namespace, name).DeleteAllSlices();
            _services.Remove((@namespace, name));
        }
    }

    /// <summary>
    /// Creates or replaces a raw EndpointSlice, bypassing the Service model (slices it owns are overwritten by the next
    /// model change). Server-owned fields are stamped: apiVersion, kind, resourceVersion, uid, generation, creationTimestamp.
    /// </summary>
    /// <param name="slice">The slice; metadata.namespace and metadata.name are required.</param>
    /// <returns>A copy of the stored slice.</returns>
    public V1EndpointSlice PutSlice(V1EndpointSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        lock (_store.Gate)
        {
            return _store.Put(slice).CloneSlice();
        }
    }

    /// <summary>Deletes a raw EndpointSlice, bypassing the Service model.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The slice name.</param>
    /// <exception cref="KeyNotFoundException">No such slice.</exception>
    public void DeleteSlice(string @namespace, string name)
    {
        lock (_store.Gate)
        {
            if (!_store.Delete(@namespace, name))
            {
                throw new KeyNotFoundException($"EndpointSlice {@namespace}/{name} does not exist.");
            }
        }
    }

    /// <summary>Gets a copy of a stored EndpointSlice, or <see langword="null"/>.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The slice name.</param>
    /// <returns>The slice or <see langword="null"/>.</returns>
    public V1EndpointSlice? GetSlice(string @namespace, string name)
    {
        lock (_store.Gate)
        {
            return _store.Get(@namespace, name)?.CloneSlice();
        }
    }

    /// <summary>Aborts every open watch connection mid-stream (the client sees a transport error).</summary>
    public void DropAllWatches() => _server.OpenWatches.AbortAll();

    /// <summary>The next WATCH request gets one ERROR event (Status 410, reason Expired) and then ends.</summary>
    public void ExpireNextWatch()
    {
        lock (_store.Gate)
        {
            _faults.ExpireNextWatch = true;
        }
    }

    /// <summary>
    /// The next streaming list (a WATCH with <c>sendInitialEvents=true</c>, see <see cref="StreamingListSupport"/>)
    /// sends <paramref name="afterEvents"/> of its initial ADDED events, then one ERROR event (Status 410, reason
    /// Expired) before the initial-events-end bookmark, and then ends: the client must discard the partial state.
    /// </summary>
    /// <param name="afterEvents">How many initial events to send first; 0 sends the error at once.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="afterEvents"/> is negative.</exception>
    public void ExpireNextStreamingList(int afterEvents)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterEvents);
        lock (_store.Gate)
        {
            _faults.ExpireNextStreamingListAfter = afterEvents;
        }
    }

    /// <summary>
    /// LIST and WATCH requests (of EndpointSlices) are answered with <paramref name="statusCode"/> and a Status body
    /// until the returned handle is disposed or <paramref name="count"/> requests have failed.
    /// </summary>
    /// <param name="statusCode">The HTTP status code, e.g. 403, 429, 500 or 503.</param>
    /// <param name="message">The Status message; see <see cref="ForbiddenListMessage"/>.</param>
    /// <param name="count">How many requests fail; <see langword="null"/> for all until disposed.</param>
    /// <param name="retryAfter">
    /// When set, each failure carries a <c>Retry-After: &lt;seconds&gt;</c> header and <c>details.retryAfterSeconds</c> in
    /// its Status, as the API server writes a retryable error (a 429 from API Priority and Fairness, a 503 while it
    /// starts or stops). Whole seconds, at least 1; <see langword="null"/> (the default) sends neither.
    /// </param>
    /// <returns>A handle that disarms the failure.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="statusCode"/> is below 400, <paramref name="count"/> below 1, or <paramref name="retryAfter"/> is
    /// not a whole number of seconds from 1 to <see cref="int.MaxValue"/>.
    /// </exception>
    public IDisposable FailRequests(int statusCode, string message, int? count = null, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentNullException.ThrowIfNull(message);
        if (count is { } c)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(c, 1, nameof(count));
        }

        int? retryAfterSeconds = null;
        if (retryAfter is { } delay)
        {
            if (delay < TimeSpan.FromSeconds(1) || delay > TimeSpan.FromSeconds(int.MaxValue) || delay.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(retryAfter), delay, "Retry-After is a whole number of seconds, at least 1.");
            }

            retryAfterSeconds = (int)delay.TotalSeconds;
        }

        lock (_store.Gate)
        {
            var rule = _faults.AddFailure(statusCode, message, count, retryAfterSeconds);
            return new Disarm(() =>
            {
                lock (_store.Gate)
                {
                    _faults.Remove(rule);
                }
            });
        }
    }

    /// <summary>
    /// LIST requests (of EndpointSlices) received while the returned handle is in force get no answer at all, not even
    /// headers, until it is disposed; then they are answered normally, from the state at that moment (an armed
    /// <see cref="FailRequests"/> applies then). A client that cancels or disconnects meanwhile just goes away. WATCH and
    /// other requests are not affected. Handles may overlap: a LIST waits for every handle in force when it arrived.
    /// </summary>
    /// <remarks>
    /// A held LIST appears in <see cref="Requests"/> at once, with status code 0 until answered.
    /// <see cref="RestartAsync(bool)"/> and disposal abort the connections of held LISTs; the stall itself stays in force
    /// across a restart until its handle is disposed.
    /// </remarks>
    /// <returns>A handle that lifts the stall and releases the held LISTs.</returns>
    public IDisposable StallLists()
    {
        lock (_store.Gate)
        {
            var stall = _faults.AddListStall();
            return new Disarm(() =>
            {
                lock (_store.Gate)
                {
                    _faults.Remove(stall);
                }
            });
        }
    }

    /// <summary>The next WATCH request gets 200 and headers, then nothing until the client disconnects.</summary>
    public void StallNextWatch()
    {
        lock (_store.Gate)
        {
            _faults.StallNextWatch = true;
        }
    }

    /// <summary>Writes one non-JSON line to every open (not stalled) watch; the streams continue.</summary>
    public void SendMalformedLine()
    {
        lock (_store.Gate)
        {
            _server.SendMalformedLine();
        }
    }

    /// <summary>Compacts the history: a watch from a resourceVersion older than the current one gets 410 Expired.</summary>
    public void ExpireHistory()
    {
        lock (_store.Gate)
        {
            _store.Compact();
        }
    }

    /// <summary>Drops every watch, stops the server and starts it again on the same port; objects and resourceVersion are kept.</summary>
    /// <returns>A task that completes when the server listens again.</returns>
    public Task RestartAsync() => RestartAsync(loseHistory: false);

    /// <summary>
    /// Drops every watch, stops the server and starts it again on the same port; objects are kept, and with
    /// <paramref name="loseHistory"/> the watch history is not.
    /// </summary>
    /// <param name="loseHistory">
    /// <see langword="false"/>: the resourceVersion and history are kept, so every watch resumes where it was (as
    /// <see cref="RestartAsync()"/>). <see langword="true"/>: as an API server whose watch cache restarts from storage
    /// that other writes have moved on, the restarted server starts one resourceVersion further, with no history before
    /// it: every watch resumed from a resourceVersion handed out before the restart (by a LIST, an event or a bookmark)
    /// gets a 410 Gone ERROR event, and its client must LIST again. Objects are unchanged; a new LIST returns them at the
    /// new resourceVersion.
    /// </param>
    /// <returns>A task that completes when the server listens again.</returns>
    public async Task RestartAsync(bool loseHistory)
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await _server.StopAsync().ConfigureAwait(false);
            if (loseHistory)
            {
                lock (_store.Gate)
                {
                    _store.Restart();
                }
            }

            await StartServerCoreAsync(_port, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Waits until exactly <paramref name="count"/> watches are open.</summary>
    /// <param name="count">The expected number of open watches.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>A task that completes when the count is reached.</returns>
    /// <exception cref="TimeoutException">The count was not reached in time; the message names expected and actual counts.</exception>
    public Task WaitForOpenWatchesAsync(int count, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return _server.OpenWatches.WaitForCountAsync(count, timeout);
    }

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequests() => _server.ClearRequests();

    /// <summary>Stops the server and ends every watch.</summary>
    /// <returns>A task that completes when the server is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _server.StopAsync().ConfigureAwait(false);
            _server.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartServerAsync(int port, CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartServerCoreAsync(port, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartServerCoreAsync(int port, CancellationToken cancellationToken)
    {
        _port = await _server.StartAsync(port, cancellationToken).ConfigureAwait(false);
        BaseUri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_port}/"));
    }

    private sealed class Disarm(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}
