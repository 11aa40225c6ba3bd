using Grpc.Net.Client.Configuration;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>The names of the newest-first round-robin policy (its behaviour: <see cref="NewestFirstRoundRobinBalancerTests"/>).</summary>
public sealed class NewestFirstRoundRobinTests
{
    [Test]
    public void Config_NamesThePolicyTheFactoryServes()
    {
        Assert.That(new NewestFirstRoundRobinConfig().PolicyName, Is.EqualTo(new NewestFirstRoundRobinBalancerFactory().Name));
        Assert.That(NewestFirstRoundRobinBalancerFactory.PolicyName, Is.EqualTo("newest_first_round_robin"));
    }

    [Test]
    public void KubernetesOptions_DefaultServiceConfig_FallsBackToRoundRobin()
    {
        var configs = new KubernetesLoadBalancingOptions().ServiceConfig!.LoadBalancingConfigs.Select(c => c.PolicyName);

        Assert.That(configs, Is.EqualTo(new[] { NewestFirstRoundRobinBalancerFactory.PolicyName, LoadBalancingConfig.RoundRobinPolicyName }));
    }
}
