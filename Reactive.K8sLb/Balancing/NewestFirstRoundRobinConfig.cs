using Grpc.Net.Client.Configuration;

namespace Reactive.K8sLb;

/// <summary>Selects the <c>newest_first_round_robin</c> policy in a <see cref="ServiceConfig"/> (see
/// <see cref="NewestFirstRoundRobinBalancerFactory"/>), the library's default.</summary>
public sealed class NewestFirstRoundRobinConfig : BalancingPolicyConfig
{
    /// <summary>Creates the configuration, with outlier detection on by default.</summary>
    public NewestFirstRoundRobinConfig()
        : base(NewestFirstRoundRobinBalancerFactory.PolicyName)
    {
    }

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
}
