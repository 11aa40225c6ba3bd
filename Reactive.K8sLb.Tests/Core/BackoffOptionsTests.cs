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

    [Test]
    public void Delay_BaseAtMaximum_SpreadsBelowMaximumInsteadOfClampingToIt()
    {
        var options = new BackoffOptions(TimeSpan.FromTicks(1000), TimeSpan.FromTicks(1000), 2.0, 0.2);

        var delays = new[] { 0.0, 0.25, 0.5, 0.75, 1.0 - 1e-9 }.Select(random => options.Delay(5, random).Ticks);

        // The range is [Maximum*(1-Jitter), Maximum], spread uniformly: not half of it piled up on Maximum.
        Assert.That(delays, Is.EqualTo(new long[] { 800, 850, 900, 950, 1000 }));
    }

    [Test]
    public void Delay_UpperJitterAboveMaximum_RangeEndsAtMaximum()
    {
        var options = new BackoffOptions(TimeSpan.FromTicks(100), TimeSpan.FromTicks(120), 2.0, 0.5);

        var delays = new[] { 0.0, 0.5, 1.0 - 1e-9 }.Select(random => options.Delay(1, random).Ticks);

        // Base 100: [50, min(120, 150)].
        Assert.That(delays, Is.EqualTo(new long[] { 50, 85, 120 }));
    }

    [Test]
    public void Delay_FleetAtTheCap_AlmostNoClientWaitsExactlyMaximum()
    {
        var options = BackoffOptions.Default;

        // 1000 clients whose random draws cover [0, 1) evenly, all far into the backoff (base delay at the 30 s cap).
        var delays = Enumerable.Range(0, 1000).Select(i => options.Delay(20, i / 1000.0)).ToList();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(delays.Count(d => d == options.Maximum), Is.LessThanOrEqualTo(1));
            Assert.That(delays.Distinct().Count(), Is.EqualTo(1000));
            Assert.That(delays, Has.All.InRange(TimeSpan.FromSeconds(24), options.Maximum));
        }
    }
}
