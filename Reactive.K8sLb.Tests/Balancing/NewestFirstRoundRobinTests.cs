using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>The start of each new picker of the newest-first round-robin policy.</summary>
public sealed class NewestFirstRoundRobinTests
{
    private static int Random(int count) => count - 1;

    [Test]
    public void FirstPicker_StartsAtRandom()
    {
        Assert.That(NewestFirstRoundRobinBalancer.FirstPick(["a", "b", "c"], new HashSet<string>(), Random), Is.EqualTo(2));
    }

    [Test]
    public void NewlyReadySubchannel_IsPickedFirst()
    {
        Assert.That(NewestFirstRoundRobinBalancer.FirstPick(["a", "b", "new", "c"], new HashSet<string> { "a", "b", "c" }, Random), Is.EqualTo(2));
    }

    [Test]
    public void SeveralNewlyReady_TheFirstOfThemIsPickedFirst()
    {
        Assert.That(NewestFirstRoundRobinBalancer.FirstPick(["a", "n1", "n2"], new HashSet<string> { "a" }, Random), Is.EqualTo(1));
    }

    [Test]
    public void NothingNew_SubchannelOnlyLeft_StartsAtRandom()
    {
        Assert.That(NewestFirstRoundRobinBalancer.FirstPick(["a", "c"], new HashSet<string> { "a", "b", "c" }, Random), Is.EqualTo(1));
    }

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
