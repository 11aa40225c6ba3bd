using System.Reactive.Concurrency;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Reactive.K8sLb;

/// <summary>
/// How discovery runs, whatever the Service: which endpoints count, timing, retries and the Kubernetes connection. The
/// one settings model of the library: <see cref="DiscoveryConfig"/> (one Service, for <c>Observe</c>, <c>Discover</c>
/// and <c>ApplyTo</c>) and <see cref="KubernetesLoadBalancingOptions"/> (every <c>k8s:///</c> channel, bindable from
/// configuration) both derive from it. Every option has a documented default. A value that breaks its own rule throws
/// when it is set, naming the field; rules between fields (<see cref="MaxDebounceDelay"/> against
/// <see cref="Debounce"/>) are checked as a whole by <see cref="Validate"/>, which runs at first use, so the order of
/// assignments never matters.
/// </summary>
public class DiscoveryOptions
{
    private TimeSpan _debounce = TimeSpan.FromMilliseconds(50);
    private TimeSpan? _maxDebounceDelay;
    private BackoffOptions _backoff = BackoffOptions.Default;
    private TimeSpan _watchTimeout = TimeSpan.FromMinutes(5);
    private TimeSpan _idleTimeout = TimeSpan.FromMinutes(2);
    private int _listPageSize = 500;
    private TimeSpan _initialEventsTimeout = TimeSpan.FromSeconds(3);
    private ReadinessPolicy _readiness;
    private AddressFamilyPolicy _addressFamily;

    /// <summary>Which endpoints receive traffic. The default value is <see cref="ReadinessPolicy.ReadyWithTerminatingFallback"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined value.</exception>
    public ReadinessPolicy Readiness
    {
        get => _readiness;
        set => _readiness = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Readiness), value, "Readiness must be a defined ReadinessPolicy value.");
    }

    /// <summary>Which slices contribute, by address type. The default value is <see cref="AddressFamilyPolicy.PreferIPv4"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined value.</exception>
    public AddressFamilyPolicy AddressFamily
    {
        get => _addressFamily;
        set => _addressFamily = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(AddressFamily), value, "AddressFamily must be a defined AddressFamilyPolicy value.");
    }

    /// <summary>
    /// Quiet window: changes are buffered until no change has arrived for this long, then emitted as one net burst
    /// (with <see cref="DebounceLeadingEdge"/>, the first change after a quiet period is not held).
    /// <see cref="TimeSpan.Zero"/> passes changes through unbuffered. The default value is 50 milliseconds.
    /// The first complete snapshot and status changes are never delayed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan Debounce
    {
        get => _debounce;
        set => _debounce = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Debounce), value, "Debounce must not be negative.");
    }

    /// <summary>
    /// Longest time a change may be held by the debounce under constant churn, counted from the first buffered
    /// change. The default value is 500 milliseconds, or <see cref="Debounce"/> when that is longer. When set, it must
    /// be at least <see cref="Debounce"/> (checked by <see cref="Validate"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public TimeSpan MaxDebounceDelay
    {
        get => _maxDebounceDelay ?? (_debounce > DefaultMaxDebounceDelay ? _debounce : DefaultMaxDebounceDelay);
        set => _maxDebounceDelay = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxDebounceDelay), value, "MaxDebounceDelay must not be negative.");
    }

    /// <summary>
    /// Whether a change that arrives after the endpoint set has been quiet for <see cref="Debounce"/> is emitted at
    /// once, so an isolated scale-up or readiness flip reaches the channel in about a millisecond; the changes that
    /// follow it within the window (a rollout, a burst of slice updates) are still conflated into net bursts. When
    /// <see langword="false"/>, every change waits for the quiet window (a classic trailing debounce). The default
    /// value is <see langword="true"/>.
    /// </summary>
    public bool DebounceLeadingEdge { get; set; } = true;

    /// <summary>Retry delays after Kubernetes API failures. The default value is <see cref="BackoffOptions.Default"/>.</summary>
    /// <exception cref="ArgumentNullException">Null.</exception>
    public BackoffOptions Backoff
    {
        get => _backoff;
        set => _backoff = value ?? throw new ArgumentNullException(nameof(Backoff), "Backoff must not be null.");
    }

    /// <summary>
    /// Server-side watch duration (<c>timeoutSeconds</c>); each watch asks for a random value between this and twice
    /// this, so many clients do not re-watch in step. The watch then resumes from its last resourceVersion without a
    /// new LIST. The default value is 5 minutes. Must be at least 1 second.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 second.</exception>
    public TimeSpan WatchTimeout
    {
        get => _watchTimeout;
        set => _watchTimeout = value >= TimeSpan.FromSeconds(1) ? value : throw new ArgumentOutOfRangeException(nameof(WatchTimeout), value, "WatchTimeout must be at least 1 second.");
    }

    /// <summary>
    /// A watch that delivers nothing, not even a bookmark, for this long is abandoned and re-established (guards
    /// against silently hung connections), and a LIST page gets no longer than this. The default value is 2 minutes.
    /// Must be positive.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan IdleTimeout
    {
        get => _idleTimeout;
        set => _idleTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(IdleTimeout), value, "IdleTimeout must be positive.");
    }

    /// <summary>Page size (<c>limit</c>) of each LIST request. The default value is 500. Must be positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public int ListPageSize
    {
        get => _listPageSize;
        set => _listPageSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(ListPageSize), value, "ListPageSize must be positive.");
    }

    /// <summary>
    /// The scheduler for every timer (debounce, backoff, watchdog). The default value is <see langword="null"/>:
    /// <see cref="DefaultScheduler.Instance"/>. Tests pass a <c>TestScheduler</c>.
    /// </summary>
    public IScheduler? Scheduler { get; set; }

    /// <summary>Where log messages go. The default value is <see langword="null"/>: nothing is logged (for
    /// <c>k8s:///</c> channels: the logger factory registered in the service provider, else the channel's).</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// How to reach the Kubernetes API. The default value is <see langword="null"/>: the in-cluster configuration
    /// when running in a pod, else the default kubeconfig (<c>$KUBECONFIG</c> or <c>~/.kube/config</c>).
    /// </summary>
    public KubernetesClientConfiguration? ClientConfiguration { get; set; }

    /// <summary>
    /// Whether health checks registered with <c>AddHealthChecks().AddKubernetesDiscovery()</c> report this discovery.
    /// The default value is <see langword="false"/> for a <see cref="DiscoveryConfig"/> (an <c>Observe</c>
    /// subscription opts in) and <see langword="true"/> for <see cref="KubernetesLoadBalancingOptions"/> (every
    /// <c>k8s:///</c> channel is reported). Metrics cover every discovery either way.
    /// </summary>
    public bool ReportHealth { get; set; }

    /// <summary>
    /// Whether subscriptions in this process that watch the same Service through the same API server share one
    /// LIST+WATCH and one Kubernetes client. Shared: <c>Observe</c> subscriptions, <c>Discover</c> and <c>ApplyTo</c>
    /// calls and <c>k8s:///</c> channels whose Service, <see cref="DiscoveryConfig.Namespace"/>, API server identity
    /// (the values of <see cref="ClientConfiguration"/>, or the same client instance given to <c>Observe</c>) and watch
    /// settings (<see cref="Backoff"/>, <see cref="WatchTimeout"/>, <see cref="IdleTimeout"/>,
    /// <see cref="ListPageSize"/>, <see cref="StreamingLists"/>, <see cref="Scheduler"/>, <see cref="LoggerFactory"/>) are equal share the slices and
    /// the watch's health; each keeps its own port, <see cref="Readiness"/>, <see cref="AddressFamily"/> and debounce.
    /// A subscription that joins a running watch gets the current endpoints and status at once, without a new LIST.
    /// The watch stops 5 seconds (on <see cref="Scheduler"/>) after its last subscription ends, so a channel that is
    /// recreated at once does not relist. With <see langword="false"/>, the subscription has a client and a watch of
    /// its own, started at subscription and stopped at disposal. The default value is <see langword="true"/>.
    /// </summary>
    public bool ShareWatch { get; set; } = true;

    /// <summary>
    /// Whether to take the Service's EndpointSlices with a streaming list where the API server supports it: one WATCH
    /// with <c>sendInitialEvents=true</c> (Kubernetes' WatchList, beta since 1.32) that sends the current slices and then
    /// a bookmark annotated <c>k8s.io/initial-events-end</c>, and goes on streaming changes, instead of a LIST followed
    /// by a WATCH. The API server serves it from its watch cache, one object at a time, instead of building the whole
    /// list in memory. The first snapshot is declared on that bookmark; a relist after 410 Gone streams the same way.
    /// The price is latency at startup: kube-apiserver sends that bookmark on its bookmark tick, up to about a second
    /// after the initial events, where a LIST answers at once; set <see langword="false"/> where the first call of a new
    /// process matters more than the API server's memory.
    /// <para>
    /// A server that rejects it (a 400/422 naming the parameters: its WatchList feature is off) or ignores it (a plain
    /// bookmark before the initial-events-end one: a proxy or an API that is not kube-apiserver) gets LIST + WATCH at once,
    /// and the answer is remembered for the Kubernetes client (with <see cref="ShareWatch"/>, for the API server in this
    /// process). A streaming list that answered and then went silent for 3 seconds, or ended, before that bookmark falls
    /// back for that time only, and is remembered the second time in a row; any other refusal before the snapshot (RBAC
    /// that allows list but not watch, say) gets one LIST for that attempt, as client-go's reflector does.
    /// </para>
    /// The default value is <see langword="true"/>.
    /// </summary>
    public bool StreamingLists { get; set; } = true;

    /// <summary>
    /// How long a streaming list may go without an event before its initial-events-end bookmark, after which the server
    /// is taken not to support streaming lists. The default value is 3 seconds; never more than
    /// <see cref="IdleTimeout"/>. Internal for testing.
    /// </summary>
    internal TimeSpan InitialEventsTimeout
    {
        get => _initialEventsTimeout < _idleTimeout ? _initialEventsTimeout : _idleTimeout;
        set => _initialEventsTimeout = value;
    }

    /// <summary>
    /// How long a shared watch outlives its last subscription; part of the sharing key. The default value is 5 seconds.
    /// Internal for testing.
    /// </summary>
    internal TimeSpan ShareLinger { get; set; } = DefaultShareLinger;

    /// <summary>The initial <see cref="ShareLinger"/> of new options: 5 seconds. Internal for testing (the test assembly
    /// sets it to zero, so that disposing a subscription closes its watch at once unless a test asks otherwise).</summary>
    internal static TimeSpan DefaultShareLinger { get; set; } = TimeSpan.FromSeconds(5);

    internal static TimeSpan DefaultMaxDebounceDelay => TimeSpan.FromMilliseconds(500);

    internal IScheduler EffectiveScheduler => Scheduler ?? DefaultScheduler.Instance;

    internal ILoggerFactory EffectiveLoggerFactory => LoggerFactory ?? NullLoggerFactory.Instance;

    /// <summary>Checks the rules between fields (each field's own rule is checked when it is set).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rule is broken; the message names the field.</exception>
    public void Validate()
    {
        if (_maxDebounceDelay is { } max && max < _debounce)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDebounceDelay), max, $"MaxDebounceDelay must be at least Debounce ({_debounce}).");
        }

        // A timer on such a scheduler blocks the thread that sets it (the watch path would sleep for IdleTimeout).
        if (Scheduler is ImmediateScheduler or CurrentThreadScheduler)
        {
            throw new ArgumentOutOfRangeException(nameof(Scheduler), Scheduler.GetType().Name, "Scheduler must run work asynchronously; ImmediateScheduler and CurrentThreadScheduler run it on the calling thread.");
        }
    }

    /// <summary>Copies every setting to <paramref name="target"/> (an explicitly set <see cref="MaxDebounceDelay"/> stays explicit).</summary>
    internal void CopyTo(DiscoveryOptions target)
    {
        target._readiness = _readiness;
        target._addressFamily = _addressFamily;
        target._debounce = _debounce;
        target._maxDebounceDelay = _maxDebounceDelay;
        target.DebounceLeadingEdge = DebounceLeadingEdge;
        target._backoff = _backoff;
        target._watchTimeout = _watchTimeout;
        target._idleTimeout = _idleTimeout;
        target._listPageSize = _listPageSize;
        target.Scheduler = Scheduler;
        target.LoggerFactory = LoggerFactory;
        target.ClientConfiguration = ClientConfiguration;
        target.ReportHealth = ReportHealth;
        target.ShareWatch = ShareWatch;
        target.StreamingLists = StreamingLists;
        target._initialEventsTimeout = _initialEventsTimeout;
        target.ShareLinger = ShareLinger;
    }
}
