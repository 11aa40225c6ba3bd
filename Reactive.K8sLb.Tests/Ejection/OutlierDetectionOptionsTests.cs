using Grpc.Core;
using Reactive.K8sLb.Internal.Ejection;

namespace Reactive.K8sLb.Tests.Ejection;

/// <summary>The options: defaults, validation naming the field, and how they travel in the policy's config.</summary>
public sealed class OutlierDetectionOptionsTests
{
    [Test]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new OutlierDetectionOptions();

        Assert.That(
            (options.Enabled, options.ConsecutiveFailures, options.Interval, options.FailurePercentageThreshold, options.MinimumRequestVolume, options.MinimumHosts, options.BaseEjectionTime, options.MaxEjectionTime, options.MaxEjectionPercent),
            Is.EqualTo((true, 5, TimeSpan.FromSeconds(2), 25, 20, 3, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(300), 50)));
        Assert.That(options.FailureStatusCodes, Is.EquivalentTo(new[] { StatusCode.Unavailable, StatusCode.Internal, StatusCode.Unknown, StatusCode.DataLoss, StatusCode.DeadlineExceeded }));
    }

    private static IEnumerable<TestCaseData> BadValues()
    {
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.ConsecutiveFailures = -1), "ConsecutiveFailures");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.Interval = TimeSpan.Zero), "Interval");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.FailurePercentageThreshold = 101), "FailurePercentageThreshold");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.MinimumRequestVolume = 0), "MinimumRequestVolume");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.MinimumHosts = 0), "MinimumHosts");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.BaseEjectionTime = TimeSpan.FromSeconds(-1)), "BaseEjectionTime");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.MaxEjectionTime = TimeSpan.Zero), "MaxEjectionTime");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.MaxEjectionPercent = -1), "MaxEjectionPercent");
        yield return new TestCaseData(new Action<OutlierDetectionOptions>(o => o.FailureStatusCodes = null!), "FailureStatusCodes");
    }

    [TestCaseSource(nameof(BadValues))]
    public void BadValue_ThrowsNamingTheField(Action<OutlierDetectionOptions> set, string field)
    {
        var error = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => set(new OutlierDetectionOptions()));

        Assert.That(((ArgumentException)error!).ParamName, Is.EqualTo(field));
    }

    [TestCase(StatusCode.OK)]
    [TestCase(StatusCode.Cancelled)]
    [TestCase((StatusCode)99)]
    public void FailureStatusCodes_ThatCannotBeFailures_AreRejectedWhenGivenToThePolicy(StatusCode code)
    {
        var options = new OutlierDetectionOptions { FailureStatusCodes = [StatusCode.Unavailable, code] };

        var error = Assert.Throws<ArgumentException>(() => _ = new NewestFirstRoundRobinConfig { OutlierDetection = options });

        Assert.That(error!.ParamName, Is.EqualTo("FailureStatusCodes"));
    }

    [Test]
    public void PolicyConfig_WithoutOptions_MeansTheDefaults()
    {
        var config = new NewestFirstRoundRobinConfig();

        Assert.That(NewestFirstRoundRobinConfig.PolicyOf(Fields(config)), Is.EqualTo(OutlierPolicy.Default));
    }

    [Test]
    public void PolicyConfig_TurnedOff_MeansNoDetector()
    {
        var config = new NewestFirstRoundRobinConfig { OutlierDetection = new OutlierDetectionOptions { Enabled = false } };

        Assert.That(NewestFirstRoundRobinConfig.PolicyOf(Fields(config)), Is.Null);
    }

    [Test]
    public void PolicyConfig_KeepsASnapshot_LaterChangesAreNotSeen()
    {
        var options = new OutlierDetectionOptions { ConsecutiveFailures = 7 };
        var config = NewestFirstRoundRobinConfig.DefaultServiceConfig(options).LoadBalancingConfigs[0];

        options.ConsecutiveFailures = 1;

        Assert.That(NewestFirstRoundRobinConfig.PolicyOf(Fields(config))!.ConsecutiveFailures, Is.EqualTo(7));
        Assert.That(((NewestFirstRoundRobinConfig)config).OutlierDetection, Is.SameAs(options));
    }

    [Test]
    public void EjectionTime_GrowsWithTheMultiplier_UpToTheLargerOfBaseAndMax()
    {
        var policy = OutlierPolicy.From(new OutlierDetectionOptions { BaseEjectionTime = TimeSpan.FromSeconds(30), MaxEjectionTime = TimeSpan.FromSeconds(10) })!;

        Assert.That(new[] { policy.EjectionTime(1), policy.EjectionTime(5) }, Is.EqualTo(new[] { TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30) }));
    }

    private static IDictionary<string, object> Fields(Grpc.Net.Client.Configuration.LoadBalancingConfig config) =>
        (IDictionary<string, object>)config.Inner[NewestFirstRoundRobinBalancerFactory.PolicyName];
}
