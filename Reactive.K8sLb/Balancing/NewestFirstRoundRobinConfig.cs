using Grpc.Net.Client.Configuration;

namespace Reactive.K8sLb;

/// <summary>Selects the <c>newest_first_round_robin</c> policy in a <see cref="ServiceConfig"/> (see <see cref="NewestFirstRoundRobinBalancerFactory"/>).</summary>
public sealed class NewestFirstRoundRobinConfig : LoadBalancingConfig
{
    /// <summary>Creates the configuration.</summary>
    public NewestFirstRoundRobinConfig()
        : base(NewestFirstRoundRobinBalancerFactory.PolicyName)
    {
    }

    /// <summary>The library's default service config, used by <see cref="BalancedChannel"/> and <c>k8s:///</c> channels
    /// alike: <c>newest_first_round_robin</c>, falling back to grpc-dotnet's <c>round_robin</c> where it is not registered.</summary>
    /// <returns>A new service config (service configs are mutable, so each caller gets its own).</returns>
    public static ServiceConfig DefaultServiceConfig() => new() { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig(), new RoundRobinConfig() } };
}
