namespace Reactive.K8sLb.Tests.Core;

public sealed class DiscoveryConfigTests
{
    private static DiscoveryConfig Valid() => new("grpc-server", "grpc");

    [TestCase("Grpc-server")]
    [TestCase("1grpc")]
    [TestCase("grpc-")]
    [TestCase("-grpc")]
    [TestCase("grpc.server")]
    [TestCase("")]
    public void DiscoveryConfig_ServiceNameNotRfc1035_ThrowsNamingServiceName(string serviceName)
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new DiscoveryConfig(serviceName, 8080))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("serviceName"));
            Assert.That(ex.Message, Does.Contain("ServiceName").And.Contain("RFC 1035"));
        }
    }

    [Test]
    public void DiscoveryConfig_ServiceName64Characters_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new DiscoveryConfig(new string('a', 64), 8080))!;

        Assert.That(ex.ParamName, Is.EqualTo("serviceName"));
    }

    [Test]
    public void DiscoveryConfig_ServiceName63Characters_IsAccepted()
    {
        var name = new string('a', 63);

        Assert.That(new DiscoveryConfig(name, 8080).ServiceName, Is.EqualTo(name));
    }

    [Test]
    public void DiscoveryConfig_NullServiceName_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => _ = new DiscoveryConfig(null!, 8080));
    }

    [Test]
    public void DiscoveryConfig_DefaultPort_ThrowsNamingPort()
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new DiscoveryConfig("svc", default(ServicePort)))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("port"));
            Assert.That(ex.Message, Does.Contain("Port"));
        }
    }

    [TestCase("Default")]
    [TestCase("-ns")]
    [TestCase("ns-")]
    [TestCase("ns.prod")]
    [TestCase("")]
    public void DiscoveryConfig_NamespaceNotRfc1123_ThrowsNamingNamespace(string ns)
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new DiscoveryConfig("svc", 80) { Namespace = ns })!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("Namespace"));
            Assert.That(ex.Message, Does.Contain("Namespace").And.Contain("RFC 1123"));
        }
    }

    [Test]
    public void DiscoveryConfig_Namespace64Characters_Throws()
    {
        Assert.Throws<ArgumentException>(() => _ = new DiscoveryConfig("svc", 80) { Namespace = new string('a', 64) });
    }

    [TestCase("1-prod")]
    [TestCase("default")]
    [TestCase(null)]
    public void DiscoveryConfig_ValidNamespace_IsAccepted(string? ns)
    {
        Assert.That(new DiscoveryConfig("svc", 80) { Namespace = ns }.Namespace, Is.EqualTo(ns));
    }

    [Test]
    public void DiscoveryConfig_NegativeDebounce_ThrowsNamingDebounce()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { Debounce = TimeSpan.FromTicks(-1) })!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("Debounce"));
            Assert.That(ex.Message, Does.Contain("Debounce must not be negative"));
        }
    }

    [Test]
    public void DiscoveryConfig_DebounceAndMaxDebounceDelay_AnyAssignmentOrderIsAccepted()
    {
        var maxFirst = new DiscoveryConfig("svc", 80) { MaxDebounceDelay = TimeSpan.FromMilliseconds(30), Debounce = TimeSpan.FromMilliseconds(10) };
        var debounceFirst = new DiscoveryConfig("svc", 80) { Debounce = TimeSpan.FromMilliseconds(10), MaxDebounceDelay = TimeSpan.FromMilliseconds(30) };

        Assert.That(() => KubernetesDiscovery.Observe(maxFirst), Throws.Nothing);
        Assert.That(() => KubernetesDiscovery.Observe(debounceFirst), Throws.Nothing);
        Assert.That(maxFirst.MaxDebounceDelay, Is.EqualTo(debounceFirst.MaxDebounceDelay));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void DiscoveryConfig_MaxDebounceDelayBelowDebounce_ThrowsAtFirstUseNamingMaxDebounceDelay(bool maxFirst)
    {
        var config = maxFirst
            ? new DiscoveryConfig("svc", 80) { MaxDebounceDelay = TimeSpan.FromSeconds(1), Debounce = TimeSpan.FromSeconds(2) }
            : new DiscoveryConfig("svc", 80) { Debounce = TimeSpan.FromSeconds(2), MaxDebounceDelay = TimeSpan.FromSeconds(1) };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => KubernetesDiscovery.Observe(config))!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("MaxDebounceDelay"));
            Assert.That(ex.Message, Does.Contain("Debounce"));
        }
    }

    [Test]
    public void DiscoveryConfig_NegativeMaxDebounceDelay_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { MaxDebounceDelay = TimeSpan.FromTicks(-1) })!;

        Assert.That(ex.ParamName, Is.EqualTo("MaxDebounceDelay"));
    }

    [Test]
    public void DiscoveryConfig_DebounceAboveDefaultMax_MaxFollowsDebounce()
    {
        var config = new DiscoveryConfig("svc", 80) { Debounce = TimeSpan.FromSeconds(2) };

        Assert.That(config.MaxDebounceDelay, Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void DiscoveryConfig_NullBackoff_ThrowsNamingBackoff()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => _ = new DiscoveryConfig("svc", 80) { Backoff = null! })!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("Backoff"));
            Assert.That(ex.Message, Does.Contain("Backoff"));
        }
    }

    [Test]
    public void DiscoveryConfig_WatchTimeoutBelowOneSecond_ThrowsNamingWatchTimeout()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { WatchTimeout = TimeSpan.FromMilliseconds(999) })!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("WatchTimeout"));
            Assert.That(ex.Message, Does.Contain("WatchTimeout"));
        }
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void DiscoveryConfig_IdleTimeoutNotPositive_ThrowsNamingIdleTimeout(long ticks)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { IdleTimeout = TimeSpan.FromTicks(ticks) })!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("IdleTimeout"));
            Assert.That(ex.Message, Does.Contain("IdleTimeout"));
        }
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void DiscoveryConfig_ListPageSizeNotPositive_ThrowsNamingListPageSize(int size)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { ListPageSize = size })!;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ex.ParamName, Is.EqualTo("ListPageSize"));
            Assert.That(ex.Message, Does.Contain("ListPageSize"));
        }
    }

    [Test]
    public void DiscoveryConfig_UndefinedEnumValues_Throw()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { Readiness = (ReadinessPolicy)7 })!.ParamName, Is.EqualTo("Readiness"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new DiscoveryConfig("svc", 80) { AddressFamily = (AddressFamilyPolicy)7 })!.ParamName, Is.EqualTo("AddressFamily"));
        }
    }

    [Test]
    public void DiscoveryConfig_Defaults_AreDocumentedValues()
    {
        var config = Valid();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(config.Debounce, Is.EqualTo(TimeSpan.FromMilliseconds(50)));
            Assert.That(config.MaxDebounceDelay, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(config.Backoff, Is.SameAs(BackoffOptions.Default));
            Assert.That(config.WatchTimeout, Is.EqualTo(TimeSpan.FromMinutes(5)));
            Assert.That(config.IdleTimeout, Is.EqualTo(TimeSpan.FromMinutes(2)));
            Assert.That(config.ListPageSize, Is.EqualTo(500));
            Assert.That(config.Readiness, Is.EqualTo(ReadinessPolicy.ReadyWithTerminatingFallback));
            Assert.That(config.AddressFamily, Is.EqualTo(AddressFamilyPolicy.PreferIPv4));
            Assert.That(config.Namespace, Is.Null);
            Assert.That(config.ToString(), Is.EqualTo("grpc-server.?:grpc"));
        }
    }
}
