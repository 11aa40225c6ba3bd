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
}
