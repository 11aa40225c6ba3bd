namespace Reactive.K8sLb.Tests.Core;

public sealed class BackoffOptionsTests
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Test]
    public void BackoffOptions_Defaults_AreDocumentedValues()
    {
        var options = BackoffOptions.Default;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.Initial, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(options.Maximum, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(options.Multiplier, Is.EqualTo(2.0));
            Assert.That(options.Jitter, Is.EqualTo(0.2));
            Assert.That(options.ResetAfter, Is.EqualTo(TimeSpan.FromSeconds(60)));
        }
    }

    [Test]
    public void BackoffOptions_NegativeInitial_ThrowsNamingInitial()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BackoffOptions(initial: TimeSpan.FromTicks(-1)))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("initial"));
            Assert.That(ex.Message, Does.Contain("Backoff.Initial"));
        }
    }

    [Test]
    public void BackoffOptions_MaximumBelowInitial_ThrowsNamingMaximum()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BackoffOptions(initial: OneSecond, maximum: TimeSpan.FromMilliseconds(999)))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("maximum"));
            Assert.That(ex.Message, Does.Contain("Backoff.Maximum"));
        }
    }

    [TestCase(0.999)]
    [TestCase(double.NaN)]
    public void BackoffOptions_MultiplierBelowOneOrNaN_ThrowsNamingMultiplier(double multiplier)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BackoffOptions(multiplier: multiplier))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("multiplier"));
            Assert.That(ex.Message, Does.Contain("Backoff.Multiplier"));
        }
    }

    [TestCase(-0.01)]
    [TestCase(1.01)]
    [TestCase(double.NaN)]
    public void BackoffOptions_JitterOutsideZeroToOne_ThrowsNamingJitter(double jitter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BackoffOptions(jitter: jitter))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("jitter"));
            Assert.That(ex.Message, Does.Contain("Backoff.Jitter"));
        }
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void BackoffOptions_ResetAfterNotPositive_ThrowsNamingResetAfter(long ticks)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BackoffOptions(resetAfter: TimeSpan.FromTicks(ticks)))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("resetAfter"));
            Assert.That(ex.Message, Does.Contain("Backoff.ResetAfter"));
        }
    }

    [Test]
    public void BackoffOptions_BoundaryValues_AreAccepted()
    {
        var options = new BackoffOptions(TimeSpan.Zero, TimeSpan.Zero, 1.0, 1.0, TimeSpan.FromTicks(1));

        Assert.That(options.Delay(1, 0.99), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void BaseDelay_ConsecutiveAttempts_GrowGeometricallyUpToMaximum()
    {
        var options = new BackoffOptions(TimeSpan.FromTicks(100), TimeSpan.FromTicks(1000), 3.0, 0.0);

        var delays = Enumerable.Range(1, 5).Select(options.BaseDelay).Select(d => d.Ticks);

        Assert.That(delays, Is.EqualTo(new long[] { 100, 300, 900, 1000, 1000 }));
    }

    [Test]
    public void BaseDelay_VeryLargeAttempt_IsMaximum()
    {
        var options = new BackoffOptions(TimeSpan.FromTicks(100), TimeSpan.FromTicks(1000));

        Assert.That(options.BaseDelay(10_000), Is.EqualTo(TimeSpan.FromTicks(1000)));
    }

    [Test]
    public void BaseDelay_ZeroInitialAndVeryLargeAttempt_IsZero()
    {
        var options = new BackoffOptions(TimeSpan.Zero, TimeSpan.FromTicks(1000));

        Assert.That(options.BaseDelay(10_000), Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void BaseDelay_AttemptBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackoffOptions.Default.BaseDelay(0));
    }
}
