using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.HealthChecking;

public sealed class ActiveHealthCheckOptionsTests
{
    [Test]
    public void Defaults_AreOff_WholeServer_1sTo30s()
    {
        var options = new ActiveHealthCheckOptions();

        Assert.That((options.Enabled, options.ServiceName, options.InitialBackoff, options.MaxBackoff), Is.EqualTo((false, string.Empty, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30))));
    }

    [Test]
    public void NonPositiveBackoff_Throws_NamingTheField()
    {
        var options = new ActiveHealthCheckOptions();

        Assert.That(() => options.InitialBackoff = TimeSpan.Zero, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("InitialBackoff"));
        Assert.That(() => options.MaxBackoff = TimeSpan.FromSeconds(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("MaxBackoff"));
        Assert.That(() => options.ServiceName = null!, Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("ServiceName"));
    }

    [Test]
    public void MaxBelowInitial_IsRejectedWhenGivenToTheConfig()
    {
        var options = new ActiveHealthCheckOptions { Enabled = true, InitialBackoff = TimeSpan.FromSeconds(10), MaxBackoff = TimeSpan.FromSeconds(5) };

        Assert.That(() => new NewestFirstRoundRobinConfig { HealthCheck = options }, Throws.ArgumentException.With.Property("ParamName").EqualTo("MaxBackoff"));
    }

    [Test]
    public void Config_SnapshotsTheOptions()
    {
        var options = new ActiveHealthCheckOptions { Enabled = true, ServiceName = "greet.Greeter" };
        var config = new NewestFirstRoundRobinConfig { HealthCheck = options };
        options.ServiceName = "changed";

        var policy = NewestFirstRoundRobinConfig.HealthPolicyOf((IDictionary<string, object>)config.Inner[NewestFirstRoundRobinBalancerFactory.PolicyName]);

        Assert.That(policy?.ServiceName, Is.EqualTo("greet.Greeter"));
        Assert.That(NewestFirstRoundRobinConfig.HealthPolicyOf((IDictionary<string, object>)new NewestFirstRoundRobinConfig().Inner[NewestFirstRoundRobinBalancerFactory.PolicyName]), Is.Null, "off by default");
    }

    [Test]
    public void ChannelTheLibraryDoesNotOwn_LogsThatItCannotHealthCheck()
    {
        // The factory a k8s:/// channel (GrpcChannel.ForAddress, AddKubernetesLoadBalancing) uses.
        var logs = new CapturingLoggerFactory();
        var config = new NewestFirstRoundRobinConfig { HealthCheck = new ActiveHealthCheckOptions { Enabled = true } };
        var settings = (IDictionary<string, object>)config.Inner[NewestFirstRoundRobinBalancerFactory.PolicyName];

        using var balancer = new NewestFirstRoundRobinBalancerFactory().Create(new LoadBalancerOptions(new UnusedController(), logs, settings));

        Assert.That(logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.EventId.Id), Is.EqualTo(new[] { 412 }));
    }

    private sealed class UnusedController : IChannelControlHelper
    {
        public Subchannel CreateSubchannel(SubchannelOptions options) => throw new NotSupportedException();

        public void UpdateState(BalancerState state) => throw new NotSupportedException();

        public void RefreshResolver() => throw new NotSupportedException();
    }
}
