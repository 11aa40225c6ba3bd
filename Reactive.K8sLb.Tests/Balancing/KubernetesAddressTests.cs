using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>The <c>k8s:///service[.namespace][:port]</c> grammar.</summary>
public sealed class KubernetesAddressTests
{
    private static DiscoveryConfig Parse(string address, int defaultPort = 80) =>
        KubernetesAddress.Parse(new Uri(address), defaultPort, (s, ns, p) => new DiscoveryConfig(s, p) { Namespace = ns });

    [TestCase("k8s:///greeter", "greeter", null, "80")]
    [TestCase("k8s:///greeter.demo", "greeter", "demo", "80")]
    [TestCase("k8s:///greeter:50051", "greeter", null, "50051")]
    [TestCase("k8s:///greeter.demo:50051", "greeter", "demo", "50051")]
    [TestCase("k8s:///greeter.demo:grpc", "greeter", "demo", "grpc")]
    [TestCase("K8S:///greeter.demo:grpc", "greeter", "demo", "grpc")]
    public void Parse_ValidAddress_GivesServiceNamespaceAndPort(string address, string service, string? ns, string port)
    {
        var config = Parse(address);

        Assert.That(config.ServiceName, Is.EqualTo(service));
        Assert.That(config.Namespace, Is.EqualTo(ns));
        Assert.That(config.Port.ToString(), Is.EqualTo(port));
    }

    [Test]
    public void Parse_NoPort_UsesTheChannelDefaultPort()
    {
        Assert.That(Parse("k8s:///greeter", defaultPort: 443).Port, Is.EqualTo(ServicePort.FromNumber(443)));
    }

    [TestCase("k8s://greeter.demo:50051", "authority must be empty")]
    [TestCase("k8s:///", "service name is missing")]
    [TestCase("k8s:///a.b.c", "more than two labels")]
    [TestCase("k8s:///greeter.:80", "empty label")]
    [TestCase("k8s:///greeter:", "port after ':' is empty")]
    [TestCase("k8s:///Greeter", "RFC 1035")]
    [TestCase("k8s:///greeter.Demo", "RFC 1123")]
    [TestCase("k8s:///greeter:99999", "between 1 and 65535")]
    [TestCase("k8s:///greeter:-bad-", "IANA service name")]
    [TestCase("k8s:///greeter/x", "single segment")]
    [TestCase("k8s:///greeter?x=1", "query or fragment")]
    [TestCase("dns:///greeter", "scheme must be 'k8s'")]
    public void Parse_MalformedAddress_ThrowsNamingTheAddressAndTheGrammar(string address, string problem)
    {
        Assert.That(() => Parse(address), Throws.ArgumentException
            .With.Message.Contains(address)
            .And.Message.Contains(problem)
            .And.Message.Contains("k8s:///service[.namespace][:port-number-or-name]"));
    }

    [Test]
    public void Channel_MalformedAddress_FailsAtConstruction()
    {
        var services = new ServiceCollection().AddKubernetesLoadBalancing(o => o.Observe = _ => new FakeDiscovery()).BuildServiceProvider();

        Assert.That(
            () => GrpcChannel.ForAddress("k8s:///a.b.c:80", new GrpcChannelOptions { ServiceProvider = services, Credentials = Grpc.Core.ChannelCredentials.Insecure }),
            Throws.ArgumentException.With.Message.Contains("k8s:///a.b.c:80"));
    }

    [Test]
    public void Channel_DefaultObserve_IsNotWiredYet()
    {
        var services = new ServiceCollection().AddKubernetesLoadBalancing().BuildServiceProvider();

        Assert.That(
            () => GrpcChannel.ForAddress("k8s:///greeter.demo:80", new GrpcChannelOptions { ServiceProvider = services, Credentials = Grpc.Core.ChannelCredentials.Insecure }),
            Throws.InvalidOperationException.With.Message.EqualTo("Kubernetes discovery source not wired"));
    }

    [Test]
    public void Factory_ObservesTheParsedConfiguration_WithTheOptionsApplied()
    {
        DiscoveryConfig? seen = null;
        var factory = new KubernetesResolverFactory(c => { seen = c; return new FakeDiscovery(); },
            new KubernetesLoadBalancingOptions { Debounce = TimeSpan.FromMilliseconds(5), Readiness = ReadinessPolicy.ReadyOnly });
        var services = new ServiceCollection().AddSingleton<Grpc.Net.Client.Balancer.ResolverFactory>(factory).BuildServiceProvider();

        using var channel = GrpcChannel.ForAddress("k8s:///greeter.demo:grpc", new GrpcChannelOptions { ServiceProvider = services, Credentials = Grpc.Core.ChannelCredentials.Insecure });

        Assert.That(seen, Is.Not.Null);
        Assert.That(seen!.ToString(), Is.EqualTo("greeter.demo:grpc"));
        Assert.That(seen.Debounce, Is.EqualTo(TimeSpan.FromMilliseconds(5)));
        Assert.That(seen.Readiness, Is.EqualTo(ReadinessPolicy.ReadyOnly));
    }
}
