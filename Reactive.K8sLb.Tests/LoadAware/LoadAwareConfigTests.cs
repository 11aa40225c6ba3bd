using Grpc.Net.Client.Configuration;
using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb.Tests.LoadAware;

/// <summary>The configs that select <c>least_request</c> and <c>peak_ewma</c>: names, defaults, validation, and the
/// snapshot the balancer reads.</summary>
public sealed class LoadAwareConfigTests
{
    [Test]
    public void PolicyNames_MatchTheirFactories()
    {
        Assert.That(new LeastRequestConfig().PolicyName, Is.EqualTo(new LeastRequestBalancerFactory().Name).And.EqualTo("least_request"));
        Assert.That(new PeakEwmaConfig().PolicyName, Is.EqualTo(new PeakEwmaBalancerFactory().Name).And.EqualTo("peak_ewma"));
    }

    [Test]
    public void LeastRequest_DefaultsToTwoChoices_AndSnapshotsTheSetting()
    {
        var config = new LeastRequestConfig();
        Assert.That(Picking(config), Is.EqualTo(new PickingPolicy(LoadMeasure.OutstandingCalls, 2, 0, TimeSpan.TicksPerSecond)));

        config.ChoiceCount = 3;

        Assert.That(config.ChoiceCount, Is.EqualTo(3));
        Assert.That(Picking(config)!.Choices, Is.EqualTo(3));
    }

    [Test]
    public void PeakEwma_DefaultsToLinkerdsValues()
    {
        var config = new PeakEwmaConfig();

        Assert.That(config.ChoiceCount, Is.EqualTo(2));
        Assert.That(config.Decay, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(config.DefaultRtt, Is.EqualTo(TimeSpan.FromMilliseconds(30)));
        Assert.That(Picking(config), Is.EqualTo(new PickingPolicy(LoadMeasure.PeakEwma, 2, TimeSpan.FromMilliseconds(30).Ticks, TimeSpan.FromSeconds(10).Ticks)));
    }

    [Test]
    public void PeakEwma_SettingsReachTheSnapshot()
    {
        var config = new PeakEwmaConfig { ChoiceCount = 4, Decay = TimeSpan.FromSeconds(2), DefaultRtt = TimeSpan.FromMilliseconds(5) };

        Assert.That(Picking(config), Is.EqualTo(new PickingPolicy(LoadMeasure.PeakEwma, 4, TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromSeconds(2).Ticks)));
    }

    [Test]
    public void InvalidSettings_ThrowNamingTheField()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new LeastRequestConfig { ChoiceCount = 1 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("ChoiceCount"));
            Assert.That(() => new LeastRequestConfig { ChoiceCount = 11 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("ChoiceCount"));
            Assert.That(() => new PeakEwmaConfig { ChoiceCount = 1 }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("ChoiceCount"));
            Assert.That(() => new PeakEwmaConfig { Decay = TimeSpan.Zero }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Decay"));
            Assert.That(() => new PeakEwmaConfig { DefaultRtt = TimeSpan.FromMilliseconds(-1) }, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("DefaultRtt"));
        });
    }

    [Test]
    public void SharedFields_WorkOnEveryPolicy()
    {
        var config = new PeakEwmaConfig
        {
            SlowStart = new SlowStartOptions { Enabled = true, Window = TimeSpan.FromSeconds(5) },
            OutlierDetection = new OutlierDetectionOptions { Enabled = false },
        };

        var settings = Settings(config);
        Assert.That(BalancingPolicyConfig.SlowStartPolicyOf(settings)!.WindowTicks, Is.EqualTo(TimeSpan.FromSeconds(5).Ticks));
        Assert.That(BalancingPolicyConfig.PolicyOf(settings), Is.Null, "outlier detection turned off");
        Assert.That(BalancingPolicyConfig.PickingPolicyOf(Settings(new NewestFirstRoundRobinConfig())), Is.Null, "round robin picks without load");
    }

    private static PickingPolicy? Picking(LoadBalancingConfig config) => BalancingPolicyConfig.PickingPolicyOf(Settings(config));

    private static IDictionary<string, object> Settings(LoadBalancingConfig config) => (IDictionary<string, object>)config.Inner[config.PolicyName];
}
