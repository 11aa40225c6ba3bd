using Grpc.Core;

namespace Reactive.K8sLb;

/// <summary>
/// Outlier ejection of the <c>newest_first_round_robin</c> policy: an endpoint (pod) whose calls fail, while
/// Kubernetes still lists it ready, stops receiving calls for a while. Two rules, as in Envoy and gRFC A50:
/// <list type="bullet">
/// <item><b>Consecutive failures</b> (Envoy's <c>consecutive_5xx</c>, Linkerd's failure accrual): after
/// <see cref="ConsecutiveFailures"/> failed calls in a row the endpoint is ejected at once.</item>
/// <item><b>Failure percentage</b> (gRFC A50's <c>failure_percentage_ejection</c>): every <see cref="Interval"/>, an
/// endpoint with at least <see cref="MinimumRequestVolume"/> calls in the interval, of which more than
/// <see cref="FailurePercentageThreshold"/> percent failed, is ejected, provided at least <see cref="MinimumHosts"/>
/// endpoints had that volume.</item>
/// </list>
/// An ejection lasts <see cref="BaseEjectionTime"/> × the number of times the endpoint was ejected, at most
/// <c>max(</c><see cref="BaseEjectionTime"/><c>, </c><see cref="MaxEjectionTime"/><c>)</c>; the count decreases by one
/// for every <see cref="Interval"/> the endpoint spends admitted (gRFC A50). At most
/// <see cref="MaxEjectionPercent"/> percent of the endpoints (at least one) are ejected at a time, and never the last
/// ready one: calls always have somewhere to go.
/// <para>A failure is a call that ended with one of <see cref="FailureStatusCodes"/>, a status that means the server or
/// the connection failed. <see cref="StatusCode.DeadlineExceeded"/> counts only when no response headers arrived (a
/// server that never answered); application statuses (<c>NotFound</c>, <c>InvalidArgument</c>, ...) and calls the
/// caller cancelled never count. Values that break their rule throw when set, naming the field;
/// <see cref="Validate"/> checks the whole (it runs when the options are given to
/// <see cref="BalancingPolicyConfig.OutlierDetection"/>).</para>
/// </summary>
public sealed class OutlierDetectionOptions
{
    private int _consecutiveFailures = 5;
    private TimeSpan _interval = TimeSpan.FromSeconds(2);
    private int _failurePercentageThreshold = 25;
    private int _minimumRequestVolume = 20;
    private int _minimumHosts = 3;
    private TimeSpan _baseEjectionTime = TimeSpan.FromSeconds(30);
    private TimeSpan _maxEjectionTime = TimeSpan.FromSeconds(300);
    private int _maxEjectionPercent = 50;
    private IList<StatusCode> _failureStatusCodes = DefaultFailureStatusCodes();

    /// <summary>Whether endpoints are ejected at all: <see langword="false"/> is the off switch (plain round robin over
    /// the ready endpoints). The default value is <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Failed calls in a row that eject an endpoint at once; 0 turns this rule off. The default value is 5
    /// (Envoy's <c>consecutive_5xx</c> default, Linkerd's failure accrual uses 7).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int ConsecutiveFailures
    {
        get => _consecutiveFailures;
        set => _consecutiveFailures = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ConsecutiveFailures), value, "ConsecutiveFailures must not be negative (0 turns the rule off).");
    }

    /// <summary>How often the failure-percentage rule looks at the calls of the last interval, and the step by which
    /// the ejection multiplier decays. The default value is 2 seconds, not gRFC A50's 10: the rule judges whole
    /// intervals, so a pod that starts failing mid-interval is caught one to two intervals later, and with 10 s a pod
    /// failing 30% of its calls cost 4-6% of all calls before it was ejected (measured in benchmarks/RESULTS.md, "Outlier
    /// ejection"), against 1.3-2% with 2 s. The price: the rule needs <see cref="MinimumRequestVolume"/> calls per pod
    /// within one interval (10 per second per pod by default); below that only the consecutive rule applies.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan Interval
    {
        get => _interval;
        set => _interval = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Interval), value, "Interval must be positive.");
    }

    /// <summary>Failure percentage above which an endpoint with enough calls in the interval is ejected; 100 turns
    /// this rule off (no percentage is above 100). The default value is 25: a pod failing one call in four is sick,
    /// and a Service whose calls mix successes with application errors has 0 (gRFC A50's default is 85, tuned for
    /// large backends; 25 catches a pod that fails 30% of its calls).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not within 0 to 100.</exception>
    public int FailurePercentageThreshold
    {
        get => _failurePercentageThreshold;
        set => _failurePercentageThreshold = value is >= 0 and <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(FailurePercentageThreshold), value, "FailurePercentageThreshold must be within 0 and 100.");
    }

    /// <summary>Calls an endpoint must have had in the interval for the failure-percentage rule to judge it. The
    /// default value is 20 (gRFC A50's default of 50 is for large backends; fewer calls make the percentage noise: a pod
    /// with a 5% background error rate exceeds 25% of 20 calls about once in 3,000 intervals).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int MinimumRequestVolume
    {
        get => _minimumRequestVolume;
        set => _minimumRequestVolume = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinimumRequestVolume), value, "MinimumRequestVolume must be at least 1.");
    }

    /// <summary>Endpoints that must have had <see cref="MinimumRequestVolume"/> calls in the interval for the
    /// failure-percentage rule to run. The default value is 3: gRFC A50's default of 5 would turn the rule off for the
    /// small Services common on Kubernetes; with 2 pods, only the consecutive rule ejects.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int MinimumHosts
    {
        get => _minimumHosts;
        set => _minimumHosts = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinimumHosts), value, "MinimumHosts must be at least 1.");
    }

    /// <summary>The first ejection of an endpoint lasts this long; the n-th lasts n times as long (up to
    /// <see cref="MaxEjectionTime"/>). The default value is 30 seconds (gRFC A50, Envoy).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan BaseEjectionTime
    {
        get => _baseEjectionTime;
        set => _baseEjectionTime = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(BaseEjectionTime), value, "BaseEjectionTime must be positive.");
    }

    /// <summary>The longest ejection (when shorter than <see cref="BaseEjectionTime"/>, that is the longest). The
    /// default value is 300 seconds (gRFC A50, Envoy).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan MaxEjectionTime
    {
        get => _maxEjectionTime;
        set => _maxEjectionTime = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(MaxEjectionTime), value, "MaxEjectionTime must be positive.");
    }

    /// <summary>The largest share of the endpoints ejected at a time, in percent, rounded down but at least one
    /// endpoint (0 ejects none); and the last ready endpoint is never ejected. The default value is 50: gRFC A50's 10 means one pod in
    /// a Service of fewer than 20, while half keeps enough capacity when several pods fail at once.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not within 0 to 100.</exception>
    public int MaxEjectionPercent
    {
        get => _maxEjectionPercent;
        set => _maxEjectionPercent = value is >= 0 and <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(MaxEjectionPercent), value, "MaxEjectionPercent must be within 0 and 100.");
    }

    /// <summary>
    /// The statuses that count as failures. The default value is <see cref="StatusCode.Unavailable"/>,
    /// <see cref="StatusCode.Internal"/>, <see cref="StatusCode.Unknown"/>, <see cref="StatusCode.DataLoss"/> and
    /// <see cref="StatusCode.DeadlineExceeded"/> (the last only when no response headers arrived). Every other status
    /// counts as a success. <see cref="StatusCode.OK"/> and <see cref="StatusCode.Cancelled"/> (the caller's
    /// cancellation) are not allowed (checked by <see cref="Validate"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><see langword="null"/>.</exception>
    public IList<StatusCode> FailureStatusCodes
    {
        get => _failureStatusCodes;
        set => _failureStatusCodes = value ?? throw new ArgumentNullException(nameof(FailureStatusCodes));
    }

    /// <summary>Checks the rules between fields and the status list.</summary>
    /// <exception cref="ArgumentException"><see cref="FailureStatusCodes"/> holds <see cref="StatusCode.OK"/>,
    /// <see cref="StatusCode.Cancelled"/> or an undefined value.</exception>
    public void Validate()
    {
        foreach (var code in _failureStatusCodes)
        {
            if (code is StatusCode.OK or StatusCode.Cancelled || !Enum.IsDefined(code))
            {
                throw new ArgumentException($"FailureStatusCodes must not contain {code}: OK is a success and Cancelled is the caller's own cancellation; only defined failure statuses are allowed.", nameof(FailureStatusCodes));
            }
        }
    }

    private static List<StatusCode> DefaultFailureStatusCodes() =>
        [StatusCode.Unavailable, StatusCode.Internal, StatusCode.Unknown, StatusCode.DataLoss, StatusCode.DeadlineExceeded];
}
