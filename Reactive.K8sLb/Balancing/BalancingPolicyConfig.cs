using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.HealthChecking;
using Reactive.K8sLb.Internal.LoadAware;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb;

/// <summary>
/// What the library's load-balancing policies share (<see cref="NewestFirstRoundRobinConfig"/>,
/// <see cref="LeastRequestConfig"/>, <see cref="PeakEwmaConfig"/>): outlier ejection, active health checking, zone- and
/// node-aware routing and slow start, each a field of the policy's config. Options are validated and copied when set:
/// later changes to an options object are not seen, and a balancer keeps the options of the config it was created with.
/// </summary>
public abstract class BalancingPolicyConfig : LoadBalancingConfig
{
    /// <summary>The policy's field holding the outlier detection options.</summary>
    internal const string OutlierDetectionField = "outlierDetection";

    // The validated snapshot the balancer uses (the options object stays mutable).
    internal const string OutlierPolicyField = "reactiveK8sLb.outlierPolicy";

    /// <summary>The policy's field holding the active health checking options.</summary>
    internal const string HealthCheckField = "healthCheck";

    internal const string HealthCheckPolicyField = "reactiveK8sLb.healthCheckPolicy";

    /// <summary>The policy's field holding the topology options.</summary>
    internal const string TopologyField = "topology";

    internal const string TopologyPolicyField = "reactiveK8sLb.topologyPolicy";

    /// <summary>The policy's field holding the slow start options.</summary>
    internal const string SlowStartField = "slowStart";

    internal const string SlowStartPolicyField = "reactiveK8sLb.slowStartPolicy";

    // The load-aware policies' validated picking parameters (none for round robin).
    internal const string PickingPolicyField = "reactiveK8sLb.pickingPolicy";

    /// <summary>Creates the config of the named policy.</summary>
    /// <param name="policyName">The policy name.</param>
    private protected BalancingPolicyConfig(string policyName)
        : base(policyName)
    {
    }

    /// <summary>
    /// Outlier ejection (field <c>outlierDetection</c> of the policy's config): endpoints whose calls
    /// fail stop receiving calls for a while. The default value is <see langword="null"/>, which means the defaults of
    /// <see cref="OutlierDetectionOptions"/> (on); <c>new OutlierDetectionOptions { Enabled = false }</c> turns it off.
    /// The options are validated and copied when set: later changes to the object are not seen. A balancer keeps the
    /// options of the config it was created with.
    /// </summary>
    /// <exception cref="ArgumentException">The options break a rule (see <see cref="OutlierDetectionOptions.Validate"/>).</exception>
    public OutlierDetectionOptions? OutlierDetection
    {
        get => Settings.TryGetValue(OutlierDetectionField, out var value) ? value as OutlierDetectionOptions : null;
        set => Store(OutlierDetectionField, OutlierPolicyField, value, value is null ? null : (object?)OutlierPolicy.From(value) ?? Disabled);
    }

    /// <summary>
    /// Active health checking (gRFC A17; field <c>healthCheck</c> of the policy's config): each Ready
    /// endpoint is watched through the <c>grpc.health.v1.Health</c> service, and one that is not SERVING receives no
    /// calls. The default value is <see langword="null"/>: off. Works on <see cref="BalancedChannel"/> only (see
    /// <see cref="ActiveHealthCheckOptions"/>). The options are validated and copied when set: later changes to the object
    /// are not seen.
    /// </summary>
    /// <exception cref="ArgumentException">The options break a rule (see <see cref="ActiveHealthCheckOptions.Validate"/>).</exception>
    public ActiveHealthCheckOptions? HealthCheck
    {
        get => Settings.TryGetValue(HealthCheckField, out var value) ? value as ActiveHealthCheckOptions : null;
        set => Store(HealthCheckField, HealthCheckPolicyField, value, value is null ? null : (object?)HealthCheckPolicy.From(value) ?? Disabled);
    }

    /// <summary>
    /// Zone- and node-aware routing of the policy (field <c>topology</c> of the policy's config). The default value is
    /// <see langword="null"/>, which means the defaults of <see cref="TopologyOptions"/>: kube-proxy's rules for the
    /// EndpointSlice hints (<see cref="TopologyMode.Hints"/>), with the client's zone and node from
    /// <see cref="TopologyOptions.ZoneVariable"/> and <see cref="TopologyOptions.NodeNameVariable"/> (nothing changes
    /// while those are unset or the Service has no hints). The options are copied when set, with the environment read
    /// then: later changes to the object are not seen.
    /// </summary>
    public TopologyOptions? Topology
    {
        get => Settings.TryGetValue(TopologyField, out var value) ? value as TopologyOptions : null;
        set => Store(TopologyField, TopologyPolicyField, value, value is null ? null : TopologyPolicy.From(value));
    }

    /// <summary>
    /// Slow start (field <c>slowStart</c> of the policy's config): an endpoint that has just become ready receives a
    /// growing share of the calls (see <see cref="SlowStartOptions"/>). The default value is <see langword="null"/>: off.
    /// </summary>
    public SlowStartOptions? SlowStart
    {
        get => Settings.TryGetValue(SlowStartField, out var value) ? value as SlowStartOptions : null;
        set => Store(SlowStartField, SlowStartPolicyField, value, value is null ? null : (object?)SlowStartPolicy.From(value) ?? Disabled);
    }

    /// <summary>Stores options and their validated snapshot under the policy's fields, or removes both for
    /// <see langword="null"/> (the config's dictionary holds no nulls). The snapshot is taken first, so invalid options
    /// change nothing.</summary>
    private void Store(string field, string snapshotField, object? options, object? snapshot)
    {
        if (options is null || snapshot is null)
        {
            Settings.Remove(field);
            Settings.Remove(snapshotField);
            return;
        }

        Settings[field] = options;
        Settings[snapshotField] = snapshot;
    }

    /// <summary>The value stored for turned-off outlier detection (the config's dictionary holds no nulls).</summary>
    internal static object Disabled { get; } = new();

    private protected IDictionary<string, object> Settings => (IDictionary<string, object>)Inner[PolicyName];

    /// <summary>The policy a balancer uses for the given config fields: the snapshot taken when the options were set,
    /// the defaults when none were, <see langword="null"/> when turned off.</summary>
    internal static OutlierPolicy? PolicyOf(IDictionary<string, object> configuration)
    {
        if (!configuration.TryGetValue(OutlierPolicyField, out var value)) return OutlierPolicy.Default;
        return value as OutlierPolicy;
    }

    /// <summary>The topology a balancer uses for the given config fields: the snapshot taken when the options were set,
    /// else the defaults with the environment read now.</summary>
    internal static TopologyPolicy TopologyPolicyOf(IDictionary<string, object> configuration) =>
        configuration.TryGetValue(TopologyPolicyField, out var value) && value is TopologyPolicy policy ? policy : TopologyPolicy.FromEnvironment();

    /// <summary>The health checking a balancer uses for the given config fields, <see langword="null"/> when off.</summary>
    internal static HealthCheckPolicy? HealthPolicyOf(IDictionary<string, object> configuration) =>
        configuration.TryGetValue(HealthCheckPolicyField, out var value) ? value as HealthCheckPolicy : null;

    /// <summary>How a balancer picks for the given config fields: <see langword="null"/> for round robin.</summary>
    internal static PickingPolicy? PickingPolicyOf(IDictionary<string, object> configuration) =>
        configuration.TryGetValue(PickingPolicyField, out var value) ? value as PickingPolicy : null;

    /// <summary>The slow start a balancer uses for the given config fields, <see langword="null"/> when off.</summary>
    internal static SlowStartPolicy? SlowStartPolicyOf(IDictionary<string, object> configuration) =>
        configuration.TryGetValue(SlowStartPolicyField, out var value) ? value as SlowStartPolicy : null;
}
