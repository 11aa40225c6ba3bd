using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.Ejection;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The per-endpoint instruments of the <c>newest_first_round_robin</c> balancer. gRPC's own names are used where a gRFC
/// defines one (A94's <c>grpc.subchannel.*</c>, which replace A78's <c>grpc.lb.pick_first.*</c>); the rest are
/// <c>k8slb.endpoint.*</c> / <c>k8slb.subchannel.*</c>. Every series carries the Service tags and the endpoint as
/// OpenTelemetry's <c>network.peer.address</c> / <c>network.peer.port</c>. gRPC's required <c>grpc.target</c> label
/// is not set: a load balancer does not see its channel's target (the Service tags name it instead).
/// </summary>
internal static class BalancerInstruments
{
    /// <summary>OpenTelemetry's name for the peer's IP address.</summary>
    public const string PeerAddressTag = "network.peer.address";

    /// <summary>OpenTelemetry's name for the peer's port.</summary>
    public const string PeerPortTag = "network.peer.port";

    /// <summary>OpenTelemetry's rpc semantic conventions: the numeric gRPC status code.</summary>
    public const string StatusCodeTag = "rpc.grpc.status_code";

    /// <summary>The subchannel connectivity state a subchannel entered.</summary>
    public const string SubchannelStateTag = "k8slb.subchannel.state";

    /// <summary>gRFC A94's reason for a disconnection.</summary>
    public const string DisconnectErrorTag = "grpc.disconnect_error";

    /// <summary>Which outlier-detection rule ejected an endpoint: <c>consecutive_failures</c> or <c>failure_rate</c>.</summary>
    public const string EjectionReasonTag = "k8slb.ejection.reason";

    /// <summary>What an endpoint's health check answered: <c>SERVING</c>, <c>NOT_SERVING</c>, <c>SERVICE_UNKNOWN</c>,
    /// <c>UNKNOWN</c> or <c>UNIMPLEMENTED</c> (no health service).</summary>
    public const string HealthStatusTag = "k8slb.health.status";

    /// <summary>Where the endpoint is relative to the client: <c>same_zone</c>, <c>other_zone</c> or <c>unknown</c>
    /// (see <see cref="Topology.Locality"/>).</summary>
    public const string LocalityTag = "k8slb.locality";

    /// <summary>Calls the picker sent to the endpoint.</summary>
    public static readonly Counter<long> Picks = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.endpoint.picks",
        unit: "{call}",
        description: "Calls the newest_first_round_robin picker sent to the endpoint.");

    /// <summary>Calls to the endpoint whose HTTP/2 exchange reached response headers, or failed before them.</summary>
    public static readonly Counter<long> Calls = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.endpoint.calls",
        unit: "{call}",
        description: "Calls to the endpoint by rpc.grpc.status_code, as the balancer sees them: 0 (OK) once the response headers arrive, else the status of the transport error. A status sent in the trailers is not visible here.");

    /// <summary>Connectivity state changes of the endpoint's subchannel, by the state entered.</summary>
    public static readonly Counter<long> StateChanges = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.subchannel.state_changes",
        unit: "{change}",
        description: "Connectivity state changes of the endpoint's subchannel, by the state entered: idle, connecting, ready, transient_failure, shutdown.");

    /// <summary>gRFC A94: connection attempts that reached Ready.</summary>
    public static readonly Counter<long> ConnectionAttemptsSucceeded = Instrumentation.Meter.CreateCounter<long>(
        "grpc.subchannel.connection_attempts_succeeded",
        unit: "{attempt}",
        description: "Number of successful connection attempts (gRFC A94).");

    /// <summary>gRFC A94: connection attempts that failed.</summary>
    public static readonly Counter<long> ConnectionAttemptsFailed = Instrumentation.Meter.CreateCounter<long>(
        "grpc.subchannel.connection_attempts_failed",
        unit: "{attempt}",
        description: "Number of failed connection attempts (gRFC A94).");

    /// <summary>gRFC A94: a Ready subchannel lost its connection or was shut down.</summary>
    public static readonly Counter<long> Disconnections = Instrumentation.Meter.CreateCounter<long>(
        "grpc.subchannel.disconnections",
        unit: "{disconnection}",
        description: "Number of times a connected subchannel became disconnected, by grpc.disconnect_error (gRFC A94).");

    /// <summary>Outlier detection ejected the endpoint, by <c>k8slb.ejection.reason</c>.</summary>
    public static readonly Counter<long> Ejections = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.endpoint.ejections",
        unit: "{ejection}",
        description: "Times outlier detection ejected the endpoint (it receives no calls until readmitted), by k8slb.ejection.reason: consecutive_failures or failure_rate.");

    /// <summary>An ejected endpoint's time was up: it receives calls again.</summary>
    public static readonly Counter<long> Readmissions = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.endpoint.readmissions",
        unit: "{readmission}",
        description: "Times an ejected endpoint was readmitted after its ejection time.");

    /// <summary>The endpoint's health check answered a status different from its last one.</summary>
    public static readonly Counter<long> HealthTransitions = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.endpoint.health_transitions",
        unit: "{transition}",
        description: "Times the endpoint's active health check (grpc.health.v1.Health/Watch) answered a status different from its last one, by k8slb.health.status: SERVING, NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN, or UNIMPLEMENTED (no health service: healthy).");

    // Tag values boxed once: recording never boxes.
    private static readonly object[] StatusCodes = CreateStatusCodes();

    // Every endpoint of every balancer in the process, for the open-connections gauge; held weakly, so a channel
    // dropped without disposal is not kept alive by its telemetry.
    private static readonly ConditionalWeakTable<Endpoint, object?> Live = new();

    static BalancerInstruments()
    {
        // gRFC A94's open connections, read at collection time (an UpDownCounter fed by transitions would go negative
        // for a listener attached while subchannels are connected).
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "grpc.subchannel.open_connections",
            ObserveOpenConnections,
            unit: "{connection}",
            description: "Number of open connections: 1 per endpoint whose subchannel is Ready, else 0 (gRFC A94).");
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.endpoints.ejected",
            ObserveEjected,
            unit: "{endpoint}",
            description: "1 while outlier detection keeps the endpoint ejected (it receives no calls until readmitted), else 0; the sum over a Service's endpoints is its count of ejected endpoints.");
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.endpoints.not_serving",
            ObserveNotServing,
            unit: "{endpoint}",
            description: "For health-checked endpoints: 1 while the endpoint's health check says it is not SERVING (it receives no calls), else 0.");
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.endpoint.outstanding_calls",
            ObserveOutstanding,
            unit: "{call}",
            description: "Under a load-aware policy (least_request, peak_ewma): calls started on the endpoint whose response headers have not arrived yet.");
        Instrumentation.Meter.CreateObservableGauge(
            "k8slb.endpoint.latency_estimate",
            ObserveLatencyEstimate,
            unit: "s",
            description: "Under peak_ewma: the endpoint's peak EWMA latency estimate (call start to response headers), decayed to now.");
    }

    private static IEnumerable<Measurement<long>> ObserveOutstanding()
    {
        var outstanding = new Dictionary<string, (KeyValuePair<string, object?>[] Tags, long Count)>(StringComparer.Ordinal);
        foreach (var (endpoint, _) in Live)
        {
            if (endpoint.Load is not { } load) continue;
            var key = SeriesKey(endpoint.Tags);
            outstanding[key] = (outstanding.TryGetValue(key, out var series) ? series.Tags : endpoint.Tags, series.Count + load.Outstanding);
        }

        return outstanding.Values.Select(series => new Measurement<long>(series.Count, series.Tags));
    }

    private static IEnumerable<Measurement<double>> ObserveLatencyEstimate()
    {
        // Two channels to one pod share a series: the higher estimate (the pessimistic one) is reported.
        var latency = new Dictionary<string, (KeyValuePair<string, object?>[] Tags, double Seconds)>(StringComparer.Ordinal);
        foreach (var (endpoint, _) in Live)
        {
            if (endpoint.LatencyEstimate() is not { } seconds) continue;
            var key = SeriesKey(endpoint.Tags);
            latency[key] = latency.TryGetValue(key, out var series) ? (series.Tags, Math.Max(series.Seconds, seconds)) : (endpoint.Tags, seconds);
        }

        return latency.Values.Select(series => new Measurement<double>(series.Seconds, series.Tags));
    }

    /// <summary>The tag value of an ejection reason.</summary>
    public static string ReasonName(EjectionReason reason) => reason switch
    {
        EjectionReason.ConsecutiveFailures => "consecutive_failures",
        _ => "failure_rate",
    };

    private static IEnumerable<Measurement<long>> ObserveEjected()
    {
        // 1 per endpoint ejected now, else 0 (summed over the endpoint's series: the Service's count); two channels to
        // one Service share a series per pod, as for the open connections.
        var ejected = new Dictionary<string, (KeyValuePair<string, object?>[] Tags, long Count)>(StringComparer.Ordinal);
        foreach (var (endpoint, _) in Live)
        {
            if (!endpoint.Health.IsCounting) continue;
            var key = SeriesKey(endpoint.Tags);
            ejected[key] = (ejected.TryGetValue(key, out var series) ? series.Tags : endpoint.Tags, series.Count + (endpoint.Health.IsEjected ? 1 : 0));
        }

        return ejected.Values.Select(series => new Measurement<long>(series.Count, series.Tags));
    }

    private static IEnumerable<Measurement<long>> ObserveNotServing()
    {
        var notServing = new Dictionary<string, (KeyValuePair<string, object?>[] Tags, long Count)>(StringComparer.Ordinal);
        foreach (var (endpoint, _) in Live)
        {
            if (!endpoint.IsHealthChecked) continue;
            var key = SeriesKey(endpoint.Tags);
            var excluded = (endpoint.Health.Exclusions & ExclusionReasons.NotServing) != 0;
            notServing[key] = (notServing.TryGetValue(key, out var series) ? series.Tags : endpoint.Tags, series.Count + (excluded ? 1 : 0));
        }

        return notServing.Values.Select(series => new Measurement<long>(series.Count, series.Tags));
    }

    private static IEnumerable<Measurement<long>> ObserveOpenConnections()
    {
        // Two channels to one Service have a subchannel each to the same pod, with the same tags: one series, their sum
        // (an exporter keeps only the last of two measurements with equal tags from one callback).
        var open = new Dictionary<string, (KeyValuePair<string, object?>[] Tags, long Count)>(StringComparer.Ordinal);
        foreach (var (endpoint, _) in Live)
        {
            var key = SeriesKey(endpoint.Tags);
            open[key] = (open.TryGetValue(key, out var series) ? series.Tags : endpoint.Tags, series.Count + (endpoint.IsReady ? 1 : 0));
        }

        return open.Values.Select(series => new Measurement<long>(series.Count, series.Tags));
    }

    private static string SeriesKey(KeyValuePair<string, object?>[] tags) =>
        string.Join('\u001f', tags.Select(tag => tag.Key + "=" + Convert.ToString(tag.Value, CultureInfo.InvariantCulture)));

    private static object[] CreateStatusCodes()
    {
        var codes = new object[17];
        for (var i = 0; i < codes.Length; i++) codes[i] = i;
        return codes;
    }

    /// <summary>The tag value of a connectivity state (snake case, as gRPC names states).</summary>
    public static string StateName(ConnectivityState state) => state switch
    {
        ConnectivityState.Idle => "idle",
        ConnectivityState.Connecting => "connecting",
        ConnectivityState.Ready => "ready",
        ConnectivityState.TransientFailure => "transient_failure",
        ConnectivityState.Shutdown => "shutdown",
        _ => "unknown",
    };

    /// <summary>
    /// The gRPC status a call gets for an error the subchannel call tracker saw, resolved the way grpc-dotnet resolves
    /// transport errors (GrpcProtocolHelpers.ResolveRpcExceptionStatusCode): cancellation (the caller's, or the call's
    /// deadline: the tracker cannot tell them apart) → Cancelled; an HTTP/2 RST_STREAM → its gRPC mapping; a socket or
    /// I/O error → Unavailable; anything else → Internal.
    /// </summary>
    public static StatusCode StatusOf(Exception? error)
    {
        if (error is null) return StatusCode.OK;
        if (error is RpcException rpc) return rpc.StatusCode;
        if (error is OperationCanceledException) return StatusCode.Cancelled;
        var io = false;
        for (var current = error; current is not null; current = current.InnerException)
        {
            if (current is HttpProtocolException protocol) return Http2ErrorToStatus(protocol.ErrorCode);
            if (current is SocketException or IOException) io = true;
        }

        return io ? StatusCode.Unavailable : StatusCode.Internal;
    }

    /// <summary>gRFC A94's <c>grpc.disconnect_error</c> value for a subchannel that left Ready for <paramref name="state"/>.</summary>
    public static string DisconnectError(ConnectivityState state, Status status)
    {
        if (state == ConnectivityState.Shutdown) return "subchannel shutdown";
        for (var current = status.DebugException; current is not null; current = current.InnerException)
        {
            if (current is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionReset => "connection reset",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.ConnectionAborted => "connection aborted",
                    _ => "socket error",
                };
            }
        }

        return status.DebugException is IOException ? "socket error" : "unknown";
    }

    // The gRPC spec's mapping of HTTP/2 error codes, as grpc-dotnet applies it.
    private static StatusCode Http2ErrorToStatus(long code) => code switch
    {
        0x7 => StatusCode.Unavailable, // REFUSED_STREAM
        0x8 => StatusCode.Cancelled, // CANCEL
        0xb => StatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        0xc => StatusCode.PermissionDenied, // INADEQUATE_SECURITY
        _ => StatusCode.Internal,
    };

    /// <summary>
    /// The telemetry of one endpoint (one subchannel): its tags, built once and rebuilt only when the Service identity
    /// changes, the two pick results a picker hands out for it (with and without a call tracker, both cached, so a pick
    /// allocates nothing), and the last state seen, for the A94 transitions. Thread-safe: tags are an immutable array
    /// swapped by reference; state changes arrive one at a time from the channel.
    /// </summary>
    public sealed class Endpoint : ISubchannelCallTracker
    {
        private readonly string _address;
        private readonly object _port;
        private volatile KeyValuePair<string, object?>[] _tags;
        private ServiceIdentity? _identity;
        private string _locality = Topology.Locality.Unknown;
        private LoadAware.LoadTrackerPool? _loadPicks;
        private long _readySince = FullWeight;
        private Func<long>? _loadClock;
        private ConnectivityState _state = ConnectivityState.Idle;
        private bool _ready;
        private bool _healthChecked;

        public Endpoint(Subchannel subchannel, BalancerAddress address, ServiceIdentity? identity)
        {
            Subchannel = subchannel;
            _address = address.EndPoint.Host;
            _port = address.EndPoint.Port;
            _identity = identity;
            _tags = BuildTags();
            Live.AddOrUpdate(this, null);
            Untracked = PickResult.ForSubchannel(subchannel);
            Tracked = PickResult.ForSubchannel(subchannel, this);
            OutcomeTracked = PickResult.ForSubchannel(subchannel, new HeadersOutcomeTracker(this));
            Health = new EndpointHealth(ToString(), detector: null, this);
        }

        public Subchannel Subchannel { get; }

        /// <summary>The pick of this subchannel without a tracker (nobody listens to <see cref="Calls"/>).</summary>
        public PickResult Untracked { get; }

        /// <summary>The pick of this subchannel with this endpoint as its call tracker.</summary>
        public PickResult Tracked { get; }

        /// <summary>The pick of this subchannel whose tracker counts the outcome as far as grpc-dotnet shows it (for
        /// calls whose final status nobody else reports).</summary>
        public PickResult OutcomeTracked { get; }

        /// <summary>Call outcomes and exclusion (outlier ejection) of this endpoint.</summary>
        public EndpointHealth Health { get; private set; }

        /// <summary>The tags every series of this endpoint carries (shared: never modify).</summary>
        internal KeyValuePair<string, object?>[] Tags => _tags;

        /// <summary>Whether the subchannel is Ready (one open connection).</summary>
        public bool IsReady => Volatile.Read(ref _ready);

        /// <summary>Whether an active health check watches the endpoint (for the not-serving gauge).</summary>
        public bool IsHealthChecked
        {
            get => Volatile.Read(ref _healthChecked);
            set => Volatile.Write(ref _healthChecked, value);
        }

        /// <summary>Sets the Service of the tags (called under the balancer's lock).</summary>
        public void SetIdentity(ServiceIdentity? identity)
        {
            _identity = identity;
            _tags = BuildTags();
        }

        /// <summary>Where the endpoint is relative to the client (<see cref="LocalityTag"/>; called under the balancer's lock).</summary>
        public string Locality
        {
            get => _locality;
            set
            {
                if (string.Equals(_locality, value, StringComparison.Ordinal)) return;
                _locality = value;
                _tags = BuildTags();
            }
        }

        /// <summary>Leaves the open-connections gauge (the subchannel is shut down).</summary>
        public void Close() => Live.Remove(this);

        /// <summary>Puts the endpoint under outlier detection (called once, before it is picked).</summary>
        public void Detect(OutlierDetector detector) => Health = detector.Add(ToString(), this);

        /// <summary>
        /// Counts the pick and returns the pick result. Under outlier detection every pick carries the outcome tracker:
        /// its <c>Start</c> (which grpc-dotnet calls once, for the pick it uses) hands the call to the library's call
        /// invoker when one is starting it (<see cref="CallCapture"/>), and its <c>Complete</c> counts a transport error.
        /// Otherwise tracked only while someone listens to the calls.
        /// </summary>
        public PickResult Pick() => Pick(now: 0);

        /// <summary>Like <see cref="Pick()"/>, for a load-aware picker that read the clock at <paramref name="now"/>
        /// (the pooled tracker takes it as the call's start).</summary>
        public PickResult Pick(long now)
        {
            if (Picks.Enabled) CountPick();
            if (_loadPicks is { } pool) return pool.Rent(now);
            if (Health.IsCounting) return OutcomeTracked;
            return Calls.Enabled ? Tracked : Untracked;
        }

        /// <summary>The endpoint's load, under a load-aware policy (<see cref="TrackLoad"/>); else <see langword="null"/>.</summary>
        public LoadAware.EndpointLoad? Load { get; private set; }

        /// <summary>The <see cref="ReadySince"/> of an endpoint at full weight from the start (not ramping up).</summary>
        public const long FullWeight = long.MinValue;

        /// <summary>When its subchannel last became Ready, in <see cref="TimeSpan"/> ticks (for slow start), or
        /// <see cref="FullWeight"/>.</summary>
        public long ReadySince
        {
            get => Volatile.Read(ref _readySince);
            set => Volatile.Write(ref _readySince, value);
        }

        /// <summary>Puts the endpoint under load tracking (called once, before it is picked): from then on every pick
        /// carries a pooled per-call tracker that also does what <see cref="OutcomeTracked"/> does. With a clock the
        /// tracker measures latencies (peak EWMA), without one it counts calls in flight only.</summary>
        public void TrackLoad(LoadAware.EndpointLoad load, Func<long>? clock)
        {
            Load = load;
            _loadClock = clock;
            _loadPicks = new LoadAware.LoadTrackerPool(this, load, clock);
        }

        /// <summary>The latency estimate now, in seconds, when latencies are measured (peak EWMA); else <see langword="null"/>.</summary>
        public double? LatencyEstimate() =>
            Load is { } load && _loadClock is { } clock ? load.LatencyAt(clock()) / TimeSpan.TicksPerSecond : null;

        /// <summary>A call picked for this endpoint starts (its tracker's <c>Start</c>).</summary>
        internal void OnCallStarted()
        {
            if (Health.IsCounting) CallCapture.TryClaim(Health);
        }

        /// <summary>A call picked for this endpoint got its response headers or failed (its tracker's <c>Complete</c>):
        /// counts it, and a transport error for outlier detection. Never throws into grpc-dotnet's handler.</summary>
        internal void OnCallCompleted(Exception? error)
        {
            try
            {
                RecordCall(error);
                if (error is null || !Health.IsCounting) return;
                var code = StatusOf(error);
                if (code != StatusCode.Cancelled) Health.Record(code, responseHeadersReceived: false);
            }
            catch (Exception)
            {
                // A meter listener that throws loses this count, nothing else.
            }
        }

        /// <summary>Counts an ejection of this endpoint.</summary>
        public void RecordEjection(EjectionReason reason)
        {
            if (!Ejections.Enabled) return;
            var tags = new TagList(_tags) { { EjectionReasonTag, ReasonName(reason) } };
            Ejections.Add(1, tags);
        }

        /// <summary>Counts a new answer of the endpoint's health check.</summary>
        public void RecordHealthTransition(string status)
        {
            if (!HealthTransitions.Enabled) return;
            var tags = new TagList(_tags) { { HealthStatusTag, status } };
            HealthTransitions.Add(1, tags);
        }

        /// <summary>Counts a readmission of this endpoint.</summary>
        public void RecordReadmission()
        {
            if (Readmissions.Enabled) Readmissions.Add(1, _tags);
        }

        /// <summary>Records a connectivity state change of the subchannel (called one at a time, under the balancer's lock).</summary>
        public void OnStateChanged(ConnectivityState state, Status status)
        {
            var previous = _state;
            if (previous == state) return;
            _state = state;
            Volatile.Write(ref _ready, state == ConnectivityState.Ready);
            if (StateChanges.Enabled)
            {
                var tags = new TagList(_tags) { { SubchannelStateTag, StateName(state) } };
                StateChanges.Add(1, tags);
            }

            if (previous == ConnectivityState.Connecting)
            {
                if (state == ConnectivityState.Ready)
                {
                    if (ConnectionAttemptsSucceeded.Enabled) ConnectionAttemptsSucceeded.Add(1, _tags);
                }
                else if (state == ConnectivityState.TransientFailure || (state == ConnectivityState.Idle && status.StatusCode != StatusCode.OK))
                {
                    // A94: an attempt cut short by shutdown is neither; a cancelled connect (Idle, OK) neither.
                    if (ConnectionAttemptsFailed.Enabled) ConnectionAttemptsFailed.Add(1, _tags);
                }
            }

            if (state == ConnectivityState.Shutdown) Close();
            if (previous == ConnectivityState.Ready)
            {
                if (Disconnections.Enabled)
                {
                    var tags = new TagList(_tags) { { DisconnectErrorTag, DisconnectError(state, status) } };
                    Disconnections.Add(1, tags);
                }
            }
        }

        void ISubchannelCallTracker.Start()
        {
        }

        void ISubchannelCallTracker.Complete(CompletionContext context)
        {
            try
            {
                RecordCall(context.Error);
            }
            catch (Exception)
            {
                // A meter listener that throws loses this count; it must not fail the call in grpc-dotnet's handler.
            }
        }

        /// <summary>Counts a pick; a meter listener that throws must not fail the pick (it would fail the call).</summary>
        private void CountPick()
        {
            try
            {
                Picks.Add(1, _tags);
            }
            catch (Exception)
            {
                // Lost count only.
            }
        }

        private void RecordCall(Exception? error)
        {
            if (!Calls.Enabled) return;
            var tags = new TagList(_tags) { { StatusCodeTag, StatusCodes[(int)StatusOf(error)] } };
            Calls.Add(1, tags);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_address}:{_port}");

        private KeyValuePair<string, object?>[] BuildTags() =>
        [
            new(K8sLbTelemetry.ServiceNameTag, _identity?.Service ?? string.Empty),
            new(K8sLbTelemetry.NamespaceTag, _identity?.Namespace ?? Instrumentation.UnknownNamespace),
            new(PeerAddressTag, _address),
            new(PeerPortTag, _port),
            new(LocalityTag, _locality),
        ];

        /// <summary>
        /// The call tracker under outlier detection. <see cref="Start"/> runs on the thread that starts the call, for
        /// the pick grpc-dotnet really uses: it hands the call to the library's invoker if one is starting it, which
        /// then reports the final status. grpc-dotnet completes the tracker when the response headers arrive, so all it
        /// can tell is a transport error before any response (connection refused or reset, RST_STREAM): that is counted
        /// as a failure here, for every call (the invoker does not count it again). An answer is not counted as a
        /// success: its status, in the trailers, is out of sight here (a pod answering <c>Unavailable</c> would look
        /// healthy). A cancellation (the caller's or the deadline's: it cannot tell them apart) is not counted. Nothing
        /// it calls may throw into grpc-dotnet's handler.
        /// </summary>
        private sealed class HeadersOutcomeTracker(Endpoint endpoint) : ISubchannelCallTracker
        {
            public void Start() => CallCapture.TryClaim(endpoint.Health);

            public void Complete(CompletionContext context)
            {
                endpoint.OnCallCompleted(context.Error);
            }
        }
    }
}
