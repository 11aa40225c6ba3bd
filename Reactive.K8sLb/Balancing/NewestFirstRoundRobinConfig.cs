using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.HealthChecking;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb;

/// <summary>Selects the <c>newest_first_round_robin</c> policy in a <see cref="ServiceConfig"/> (see <see cref="NewestFirstRoundRobinBalancerFactory"/>).</summary>
public sealed class NewestFirstRoundRobinConfig : LoadBalancingConfig
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

    /// <summary>Creates the configuration, with outlier detection on by default.</summary>
    public NewestFirstRoundRobinConfig()
        : base(NewestFirstRoundRobinBalancerFactory.PolicyName)
    {
    }

    /// <summary>
    /// Outlier ejection of the policy (field <c>outlierDetection</c> of the policy's config): endpoints whose calls
    /// fail stop receiving calls for a while. The default value is <see langword="null"/>, which means the defaults of
    /// <see cref="OutlierDetectionOptions"/> (on); <c>new OutlierDetectionOptions { Enabled = false }</c> turns it off.
    /// The options are validated and copied when set: later changes to the object are not seen. A balancer keeps the
    /// options of the config it was created with.
    /// </summary>
    /// <exception cref="ArgumentException">The options break a rule (see <see cref="OutlierDetectionOptions.Validate"/>).</exception>
    public OutlierDetectionOptions? OutlierDetection
    {
        get => Settings.TryGetValue(OutlierDetectionField, out var value) ? value as OutlierDetectionOptions : null;
        set
        {
            if (value is null)
            {
                Settings.Remove(OutlierDetectionField);
                Settings.Remove(OutlierPolicyField);
                return;
            }

            var policy = (object?)OutlierPolicy.From(value) ?? Disabled;
            Settings[OutlierDetectionField] = value;
            Settings[OutlierPolicyField] = policy;
        }
    }

    /// <summary>
    /// Active health checking of the policy (gRFC A17; field <c>healthCheck</c> of the policy's config): each Ready
    /// endpoint is watched through the <c>grpc.health.v1.Health</c> service, and one that is not SERVING receives no
    /// calls. The default value is <see langword="null"/>: off. Works on <see cref="BalancedChannel"/> only (see
    /// <see cref="ActiveHealthCheckOptions"/>). The options are validated and copied when set: later changes to the object
    /// are not seen.
    /// </summary>
    /// <exception cref="ArgumentException">The options break a rule (see <see cref="ActiveHealthCheckOptions.Validate"/>).</exception>
    public ActiveHealthCheckOptions? HealthCheck
    {
        get => Settings.TryGetValue(HealthCheckField, out var value) ? value as ActiveHealthCheckOptions : null;
        set
        {
            if (value is null)
            {
                Settings.Remove(HealthCheckField);
                Settings.Remove(HealthCheckPolicyField);
                return;
            }

            var policy = (object?)HealthCheckPolicy.From(value) ?? Disabled;
            Settings[HealthCheckField] = value;
            Settings[HealthCheckPolicyField] = policy;
        }
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
        set
        {
            if (value is null)
            {
                Settings.Remove(TopologyField);
                Settings.Remove(TopologyPolicyField);
                return;
            }

            Settings[TopologyField] = value;
            Settings[TopologyPolicyField] = TopologyPolicy.From(value);
        }
    }

    /// <summary>The value stored for turned-off outlier detection (the config's dictionary holds no nulls).</summary>
    internal static object Disabled { get; } = new();

    private IDictionary<string, object> Settings => (IDictionary<string, object>)Inner[NewestFirstRoundRobinBalancerFactory.PolicyName];

    /// <summary>The library's default service config, used by <see cref="BalancedChannel"/> and <c>k8s:///</c> channels
    /// alike: <c>newest_first_round_robin</c> (outlier detection on, with its defaults), falling back to grpc-dotnet's
    /// <c>round_robin</c> where it is not registered.</summary>
    /// <returns>A new service config (service configs are mutable, so each caller gets its own).</returns>
    public static ServiceConfig DefaultServiceConfig() => DefaultServiceConfig(outlierDetection: null);

    /// <summary>Like <see cref="DefaultServiceConfig()"/>, with the given outlier detection options, for example
    /// <c>new OutlierDetectionOptions { Enabled = false }</c> to turn ejection off.</summary>
    /// <param name="outlierDetection">The options, or <see langword="null"/> for the defaults.</param>
    /// <returns>A new service config.</returns>
    /// <exception cref="ArgumentException">The options break a rule (see <see cref="OutlierDetectionOptions.Validate"/>).</exception>
    public static ServiceConfig DefaultServiceConfig(OutlierDetectionOptions? outlierDetection) =>
        DefaultServiceConfig(outlierDetection, healthCheck: null);

    /// <summary>Like <see cref="DefaultServiceConfig()"/>, with the given outlier detection and active health checking
    /// options, for example <c>DefaultServiceConfig(null, new ActiveHealthCheckOptions { Enabled = true })</c>.</summary>
    /// <param name="outlierDetection">The outlier detection options, or <see langword="null"/> for the defaults (on).</param>
    /// <param name="healthCheck">The health checking options, or <see langword="null"/> for the default (off).</param>
    /// <returns>A new service config.</returns>
    /// <exception cref="ArgumentException">Options break a rule (see <see cref="OutlierDetectionOptions.Validate"/>,
    /// <see cref="ActiveHealthCheckOptions.Validate"/>).</exception>
    public static ServiceConfig DefaultServiceConfig(OutlierDetectionOptions? outlierDetection, ActiveHealthCheckOptions? healthCheck) =>
        new() { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig { OutlierDetection = outlierDetection, HealthCheck = healthCheck }, new RoundRobinConfig() } };

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
}
