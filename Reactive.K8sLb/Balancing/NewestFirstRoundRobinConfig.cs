using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Internal.Ejection;

namespace Reactive.K8sLb;

/// <summary>Selects the <c>newest_first_round_robin</c> policy in a <see cref="ServiceConfig"/> (see <see cref="NewestFirstRoundRobinBalancerFactory"/>).</summary>
public sealed class NewestFirstRoundRobinConfig : LoadBalancingConfig
{
    /// <summary>The policy's field holding the outlier detection options.</summary>
    internal const string OutlierDetectionField = "outlierDetection";

    // The validated snapshot the balancer uses (the options object stays mutable).
    internal const string OutlierPolicyField = "reactiveK8sLb.outlierPolicy";

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
        new() { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig { OutlierDetection = outlierDetection }, new RoundRobinConfig() } };

    /// <summary>The policy a balancer uses for the given config fields: the snapshot taken when the options were set,
    /// the defaults when none were, <see langword="null"/> when turned off.</summary>
    internal static OutlierPolicy? PolicyOf(IDictionary<string, object> configuration)
    {
        if (!configuration.TryGetValue(OutlierPolicyField, out var value)) return OutlierPolicy.Default;
        return value as OutlierPolicy;
    }
}
