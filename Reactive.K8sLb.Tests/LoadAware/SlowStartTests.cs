using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb.Tests.LoadAware;

/// <summary>Envoy's slow start factor: <c>max(minWeight, (t / window) ^ (1 / aggression))</c> inside the window, 1
/// after; and the options' validation.</summary>
public sealed class SlowStartTests
{
    private static readonly long Second = TimeSpan.TicksPerSecond;

    [TestCase(0, 0.1)]
    [TestCase(1, 0.1)]
    [TestCase(5, 0.5)]
    [TestCase(9, 0.9)]
    [TestCase(10, 1.0)]
    [TestCase(60, 1.0)]
    public void Linear_RampsOverTheWindow_FromTheMinimumWeight(int seconds, double factor)
    {
        var policy = SlowStartPolicy.From(new SlowStartOptions { Enabled = true, Window = TimeSpan.FromSeconds(10) })!;

        Assert.That(policy.FactorAt(readySince: 0, now: seconds * Second), Is.EqualTo(factor).Within(1e-9));
    }

    [Test]
    public void Aggression_AboveOne_RampsFasterAtFirst()
    {
        var policy = SlowStartPolicy.From(new SlowStartOptions { Enabled = true, Window = TimeSpan.FromSeconds(10), Aggression = 2 })!;

        Assert.That(policy.FactorAt(0, (long)(2.5 * Second)), Is.EqualTo(0.5).Within(1e-9), "(0.25)^(1/2)");
    }

    [Test]
    public void MinWeightPercent_IsTheFloor()
    {
        var policy = SlowStartPolicy.From(new SlowStartOptions { Enabled = true, Window = TimeSpan.FromSeconds(10), MinWeightPercent = 30 })!;

        Assert.That(policy.FactorAt(0, 1 * Second), Is.EqualTo(0.3).Within(1e-9));
        Assert.That(policy.FactorAt(0, 5 * Second), Is.EqualTo(0.5).Within(1e-9));
    }

    [Test]
    public void Disabled_GivesNoPolicy() =>
        Assert.That(SlowStartPolicy.From(new SlowStartOptions()), Is.Null);

    [Test]
    public void InvalidOptions_ThrowNamingTheField()
    {
        var options = new SlowStartOptions();
        Assert.Multiple(() =>
        {
            Assert.That(() => options.Window = TimeSpan.Zero, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Window"));
            Assert.That(() => options.Aggression = 0, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Aggression"));
            Assert.That(() => options.Aggression = double.NaN, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Aggression"));
            Assert.That(() => options.MinWeightPercent = 0, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("MinWeightPercent"));
            Assert.That(() => options.MinWeightPercent = 101, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("MinWeightPercent"));
        });
    }
}
