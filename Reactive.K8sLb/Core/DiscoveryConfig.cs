using System.Reactive.Concurrency;
using System.Text.RegularExpressions;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Reactive.K8sLb;

/// <summary>
/// What to discover and how: the Service and port, which endpoints count, timing and the Kubernetes connection.
/// Every option has a documented default; an invalid value throws when it is set, naming the field and the rule.
/// </summary>
public sealed partial class DiscoveryConfig
{
    private readonly string? _namespace;
    private readonly TimeSpan _debounce = TimeSpan.FromMilliseconds(50);
    private readonly TimeSpan? _maxDebounceDelay;
    private readonly BackoffOptions _backoff = BackoffOptions.Default;
    private readonly TimeSpan _watchTimeout = TimeSpan.FromMinutes(5);
    private readonly TimeSpan _idleTimeout = TimeSpan.FromMinutes(2);
    private readonly int _listPageSize = 500;
    private readonly ReadinessPolicy _readiness;
    private readonly AddressFamilyPolicy _addressFamily;

    /// <summary>Creates a configuration for a Service and port.</summary>
    /// <param name="serviceName">The Service's name: an RFC 1035 label (lower-case letters, digits and '-', starting
    /// with a letter, ending with a letter or digit, at most 63 characters).</param>
    /// <param name="port">The port number, or the port name looked up in each EndpointSlice.</param>
    /// <exception cref="ArgumentException">The service name or port is invalid.</exception>
    public DiscoveryConfig(string serviceName, ServicePort port)
    {
        Initialize(serviceName, port, out var name);
        ServiceName = name;
        Port = port;
    }

    /// <summary>Creates a configuration for a Service and a port given by name (looked up in each EndpointSlice).</summary>
    /// <param name="serviceName">The Service's name (an RFC 1035 label).</param>
    /// <param name="portName">The port's name, an IANA service name such as <c>grpc</c>.</param>
    /// <exception cref="ArgumentException">The service name or port name is invalid.</exception>
    public DiscoveryConfig(string serviceName, string portName)
        : this(serviceName, ServicePort.FromName(portName ?? throw new ArgumentNullException(nameof(portName))))
    {
    }

    /// <summary>Creates a configuration for a Service and a port number used as is.</summary>
    /// <param name="serviceName">The Service's name (an RFC 1035 label).</param>
    /// <param name="portNumber">The port number, 1..65535.</param>
    /// <exception cref="ArgumentException">The service name is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The port number is outside 1..65535.</exception>
    public DiscoveryConfig(string serviceName, int portNumber)
        : this(serviceName, ServicePort.FromNumber(portNumber))
    {
    }

    private static void Initialize(string serviceName, ServicePort port, out string name)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        if (!Rfc1035Label().IsMatch(serviceName))
        {
            throw new ArgumentException(
                $"ServiceName '{serviceName}' must be an RFC 1035 label: 1-63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit.",
                nameof(serviceName));
        }

        if (port.IsDefault)
        {
            throw new ArgumentException("Port must be a number (1-65535) or an IANA port name; default(ServicePort) is not a port.", nameof(port));
        }

        name = serviceName;
    }

    /// <summary>The Service whose EndpointSlices are watched.</summary>
    public string ServiceName { get; }

    /// <summary>The port to connect to: a number used as is, or a name looked up in each slice.</summary>
    public ServicePort Port { get; }

    /// <summary>
    /// The Service's namespace. The default value is <see langword="null"/>: the client configuration's namespace
    /// (the in-cluster service-account namespace or the kubeconfig context's), else <c>default</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Not an RFC 1123 label.</exception>
    public string? Namespace
    {
        get => _namespace;
        init
        {
            if (value is not null && !Rfc1123Label().IsMatch(value))
            {
                throw new ArgumentException(
                    $"Namespace '{value}' must be an RFC 1123 label: 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit.",
                    nameof(Namespace));
            }

            _namespace = value;
        }
    }

    /// <summary>Which endpoints receive traffic. The default value is <see cref="ReadinessPolicy.ReadyWithTerminatingFallback"/>.</summary>
    public ReadinessPolicy Readiness
    {
        get => _readiness;
        init => _readiness = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Readiness), value, "Readiness must be a defined ReadinessPolicy value.");
    }

    /// <summary>Which slices contribute, by address type. The default value is <see cref="AddressFamilyPolicy.PreferIPv4"/>.</summary>
    public AddressFamilyPolicy AddressFamily
    {
        get => _addressFamily;
        init => _addressFamily = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(AddressFamily), value, "AddressFamily must be a defined AddressFamilyPolicy value.");
    }

    /// <summary>
    /// Quiet window: changes are buffered until no change has arrived for this long, then emitted as one net burst
    /// (with <see cref="DebounceLeadingEdge"/>, the first change after a quiet period is not held).
    /// <see cref="TimeSpan.Zero"/> passes changes through unbuffered. The default value is 50 milliseconds.
    /// The first complete snapshot and status changes are never delayed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or above an explicitly set <see cref="MaxDebounceDelay"/>.</exception>
    public TimeSpan Debounce
    {
        get => _debounce;
        init
        {
            if (value < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(Debounce), value, "Debounce must not be negative.");
            if (_maxDebounceDelay is { } max && max < value)
                throw new ArgumentOutOfRangeException(nameof(Debounce), value, $"Debounce must not exceed MaxDebounceDelay ({max}).");
            _debounce = value;
        }
    }

    /// <summary>
    /// Longest time a change may be held by the debounce under constant churn, counted from the first buffered
    /// change. The default value is 500 milliseconds, or <see cref="Debounce"/> when that is longer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or below <see cref="Debounce"/>.</exception>
    public TimeSpan MaxDebounceDelay
    {
        get => _maxDebounceDelay ?? (_debounce > DefaultMaxDebounceDelay ? _debounce : DefaultMaxDebounceDelay);
        init
        {
            if (value < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(MaxDebounceDelay), value, "MaxDebounceDelay must not be negative.");
            if (value < _debounce)
                throw new ArgumentOutOfRangeException(nameof(MaxDebounceDelay), value, $"MaxDebounceDelay must be at least Debounce ({_debounce}).");
            _maxDebounceDelay = value;
        }
    }

    /// <summary>
    /// Whether a change that arrives after the endpoint set has been quiet for <see cref="Debounce"/> is emitted at
    /// once, so an isolated scale-up or readiness flip reaches the channel in about a millisecond; the changes that
    /// follow it within the window (a rollout, a burst of slice updates) are still conflated into net bursts. When
    /// <see langword="false"/>, every change waits for the quiet window (a classic trailing debounce). The default
    /// value is <see langword="true"/>.
    /// </summary>
    public bool DebounceLeadingEdge { get; init; } = true;

    /// <summary>Retry delays after Kubernetes API failures. The default value is <see cref="BackoffOptions.Default"/>.</summary>
    public BackoffOptions Backoff
    {
        get => _backoff;
        init => _backoff = value ?? throw new ArgumentNullException(nameof(Backoff), "Backoff must not be null.");
    }

    /// <summary>
    /// The scheduler for every timer (debounce, backoff, watchdog). The default value is <see langword="null"/>:
    /// <see cref="DefaultScheduler.Instance"/>. Tests pass a <c>TestScheduler</c>.
    /// </summary>
    public IScheduler? Scheduler { get; init; }

    /// <summary>Where log messages go. The default value is <see langword="null"/>: nothing is logged.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// How to reach the Kubernetes API. The default value is <see langword="null"/>: the in-cluster configuration
    /// when running in a pod, else the default kubeconfig (<c>$KUBECONFIG</c> or <c>~/.kube/config</c>).
    /// </summary>
    public KubernetesClientConfiguration? ClientConfiguration { get; init; }

    /// <summary>
    /// Server-side watch duration (<c>timeoutSeconds</c>); each watch asks for a random value between this and twice
    /// this, so many clients do not re-watch in step. The watch then resumes from its last resourceVersion without a
    /// new LIST. The default value is 5 minutes. Must be at least 1 second.
    /// </summary>
    public TimeSpan WatchTimeout
    {
        get => _watchTimeout;
        init => _watchTimeout = value >= TimeSpan.FromSeconds(1) ? value : throw new ArgumentOutOfRangeException(nameof(WatchTimeout), value, "WatchTimeout must be at least 1 second.");
    }

    /// <summary>
    /// A watch that delivers nothing, not even a bookmark, for this long is abandoned and re-established (guards
    /// against silently hung connections). The default value is 2 minutes. Must be positive.
    /// </summary>
    public TimeSpan IdleTimeout
    {
        get => _idleTimeout;
        init => _idleTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(IdleTimeout), value, "IdleTimeout must be positive.");
    }

    /// <summary>Page size (<c>limit</c>) of each LIST request. The default value is 500. Must be positive.</summary>
    public int ListPageSize
    {
        get => _listPageSize;
        init => _listPageSize = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(ListPageSize), value, "ListPageSize must be positive.");
    }

    internal static TimeSpan DefaultMaxDebounceDelay => TimeSpan.FromMilliseconds(500);

    internal IScheduler EffectiveScheduler => Scheduler ?? DefaultScheduler.Instance;

    internal ILoggerFactory EffectiveLoggerFactory => LoggerFactory ?? NullLoggerFactory.Instance;

    /// <summary>Returns <c>service.namespace:port</c>, with <c>?</c> for a namespace not yet known.</summary>
    /// <returns>A readable description.</returns>
    public override string ToString() => $"{ServiceName}.{Namespace ?? "?"}:{Port}";

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc1035Label();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc1123Label();
}
