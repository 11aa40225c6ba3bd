namespace Reactive.K8sLb;

/// <summary>
/// Active health checking of the <c>newest_first_round_robin</c> policy (gRFC A17): while an endpoint's subchannel is
/// Ready, the policy keeps a <c>grpc.health.v1.Health/Watch</c> stream open to it for <see cref="ServiceName"/>, over the
/// same connection as the calls. An endpoint reported anything but <c>SERVING</c> (<c>NOT_SERVING</c>,
/// <c>SERVICE_UNKNOWN</c>) receives no calls until it reports <c>SERVING</c> again; a server without the health service
/// (<c>UNIMPLEMENTED</c>) counts as healthy, with one warning, and is not asked again. Off by default.
/// <para>Simplifications, as documented behaviour: an endpoint is picked until its first answer (A17 waits for it); a
/// stream that fails is retried after <see cref="InitialBackoff"/>, doubling up to <see cref="MaxBackoff"/> (at once if
/// it had delivered an answer), and meanwhile the endpoint keeps its last reported state; when every endpoint is
/// excluded they are all picked, so calls keep somewhere to go.</para>
/// <para>Only channels whose connections the library can reach send health checks: <see cref="BalancedChannel"/>. A
/// <c>k8s:///</c> channel built with <c>GrpcChannel.ForAddress</c> logs a warning and checks nothing (the policy has no
/// way to start calls on a channel it does not own). Set through <see cref="BalancingPolicyConfig.HealthCheck"/>.</para>
/// </summary>
public sealed class ActiveHealthCheckOptions
{
    private string _serviceName = string.Empty;
    private TimeSpan _initialBackoff = TimeSpan.FromSeconds(1);
    private TimeSpan _maxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Whether endpoints are health-checked. The default value is <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The service name sent in the <c>HealthCheckRequest</c>. The default value is the empty string: the
    /// health of the whole server.</summary>
    /// <exception cref="ArgumentNullException"><see langword="null"/>.</exception>
    public string ServiceName
    {
        get => _serviceName;
        set => _serviceName = value ?? throw new ArgumentNullException(nameof(ServiceName));
    }

    /// <summary>How long to wait before reopening a health stream that failed without an answer; the wait doubles
    /// with each further failure, up to <see cref="MaxBackoff"/>. The default value is 1 second (gRPC's connection
    /// backoff).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan InitialBackoff
    {
        get => _initialBackoff;
        set => _initialBackoff = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(InitialBackoff), value, "InitialBackoff must be positive.");
    }

    /// <summary>The longest wait before reopening a failed health stream. The default value is 30 seconds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan MaxBackoff
    {
        get => _maxBackoff;
        set => _maxBackoff = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxBackoff), value, "MaxBackoff must be positive.");
    }

    /// <summary>Checks the rules between fields (it runs when the options are given to
    /// <see cref="BalancingPolicyConfig.HealthCheck"/>).</summary>
    /// <exception cref="ArgumentException"><see cref="MaxBackoff"/> is less than <see cref="InitialBackoff"/>.</exception>
    public void Validate()
    {
        if (_maxBackoff < _initialBackoff)
        {
            throw new ArgumentException($"MaxBackoff ({_maxBackoff}) must be at least InitialBackoff ({_initialBackoff}).", nameof(MaxBackoff));
        }
    }
}
