using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>The <c>k8s:///service[.namespace[.svc[.cluster-domain]]][:port]</c> grammar.</summary>
public sealed class KubernetesAddressTests
{
    private const string Grammar = "k8s:///service[.namespace[.svc[.<cluster-domain>]]][:port-number-or-name]";

    private static DiscoveryConfig Parse(string address, ServicePort? defaultPort = null) =>
        KubernetesAddress.Parse(new Uri(address), defaultPort, (s, ns, p) => new DiscoveryConfig(s, p) { Namespace = ns });

    [TestCase("k8s:///greeter:50051", "greeter", null, "50051")]
    [TestCase("k8s:///greeter:grpc", "greeter", null, "grpc")]
    [TestCase("k8s:///greeter.demo:50051", "greeter", "demo", "50051")]
    [TestCase("k8s:///greeter.demo:grpc", "greeter", "demo", "grpc")]
    [TestCase("K8S:///greeter.demo:grpc", "greeter", "demo", "grpc")]
    [TestCase("k8s:///greeter.demo.svc:grpc", "greeter", "demo", "grpc")]
    [TestCase("k8s:///greeter.demo.svc.cluster.local:grpc", "greeter", "demo", "grpc")]
    [TestCase("k8s:///greeter.demo.svc.cluster.local:50051", "greeter", "demo", "50051")]
    [TestCase("k8s:///greeter.demo.svc.example.org:8080", "greeter", "demo", "8080")]
    [TestCase("k8s:///greeter.demo.svc.k8s-1.corp.example:grpc", "greeter", "demo", "grpc")]
    [TestCase("k8s:///greeter.demo.svc.svc:grpc", "greeter", "demo", "grpc")]
    public void Parse_ValidAddress_GivesServiceNamespaceAndPort(string address, string service, string? ns, string port)
    {
        var config = Parse(address);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(config.ServiceName, Is.EqualTo(service));
            Assert.That(config.Namespace, Is.EqualTo(ns));
            Assert.That(config.Port.ToString(), Is.EqualTo(port));
        }
    }

    [TestCase("k8s:///greeter", "greeter", null)]
    [TestCase("k8s:///greeter.demo", "greeter", "demo")]
    [TestCase("k8s:///greeter.demo.svc", "greeter", "demo")]
    [TestCase("k8s:///greeter.demo.svc.cluster.local", "greeter", "demo")]
    public void Parse_NoPortWithDefaultPort_UsesTheDefaultPort(string address, string service, string? ns)
    {
        var config = Parse(address, defaultPort: ServicePort.FromName("grpc"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(config.ServiceName, Is.EqualTo(service));
            Assert.That(config.Namespace, Is.EqualTo(ns));
            Assert.That(config.Port, Is.EqualTo(ServicePort.FromName("grpc")));
        }
    }

    [Test]
    public void Parse_PortAndDefaultPort_ThePortInTheAddressWins()
    {
        Assert.That(Parse("k8s:///greeter.demo:50051", defaultPort: ServicePort.FromName("grpc")).Port, Is.EqualTo(ServicePort.FromNumber(50051)));
    }

    [TestCase("k8s:///greeter")]
    [TestCase("k8s:///greeter.demo")]
    [TestCase("k8s:///greeter.demo.svc")]
    [TestCase("k8s:///greeter.demo.svc.cluster.local")]
    public void Parse_NoPortWithoutDefaultPort_ThrowsNamingTheAddressAndTheFix(string address)
    {
        Assert.That(() => Parse(address), Throws.ArgumentException
            .With.Message.StartsWith($"Invalid Kubernetes address '{address}': the port is missing; add :port (a number or a port name, e.g. {address}:grpc) or set KubernetesLoadBalancingOptions.DefaultPort.")
            .And.Message.Contains(Grammar));
    }

    [Test]
    public void Parse_DefaultPortIsDefaultServicePort_ThrowsNamingTheOption()
    {
        Assert.That(() => Parse("k8s:///greeter.demo:grpc", defaultPort: default(ServicePort)), Throws.ArgumentException
            .With.Message.Contains("KubernetesLoadBalancingOptions.DefaultPort is default(ServicePort), which is not a port"));
    }

    [TestCase("k8s://greeter.demo:50051", "the authority must be empty (three slashes), but it is 'greeter.demo:50051'")]
    [TestCase("k8s:///", "the service name is missing")]
    [TestCase("k8s:///:80", "the service name is missing")]
    [TestCase("k8s:///a.b.c:80", "'a.b.c' has more than two labels, so the third must be 'svc' (service.namespace.svc[.<cluster-domain>]), but it is 'c'")]
    [TestCase("k8s:///greeter.demo.cluster.local:80", "the third must be 'svc'")]
    [TestCase("k8s:///greeter.demo.SVC:80", "the third must be 'svc'")]
    [TestCase("k8s:///greeter.demo.svc.Cluster.local:80", "the cluster domain label 'Cluster' in 'greeter.demo.svc.Cluster.local' must be an RFC 1123 label")]
    [TestCase("k8s:///greeter.demo.svc.cluster_local:80", "the cluster domain label 'cluster_local'")]
    [TestCase("k8s:///greeter.demo.svc.-local:80", "the cluster domain label '-local'")]
    [TestCase("k8s:///greeter.:80", "'greeter.' has an empty label")]
    [TestCase("k8s:///.demo:80", "'.demo' has an empty label")]
    [TestCase("k8s:///greeter.demo.svc.:80", "empty label")]
    [TestCase("k8s:///greeter.demo.svc.cluster..local:80", "empty label")]
    [TestCase("k8s:///greeter:", "the port after ':' is empty")]
    [TestCase("k8s:///Greeter:80", "RFC 1035")]
    [TestCase("k8s:///Greeter.demo.svc.cluster.local:80", "RFC 1035")]
    [TestCase("k8s:///greeter.Demo:80", "RFC 1123")]
    [TestCase("k8s:///greeter.Demo.svc.cluster.local:80", "RFC 1123")]
    [TestCase("k8s:///greeter:99999", "'99999' is not a valid port: a port number must be between 1 and 65535")]
    [TestCase("k8s:///greeter:0", "between 1 and 65535")]
    [TestCase("k8s:///greeter:-bad-", "'-bad-' is not a valid port: a port that is not all digits is a name, which must be an IANA service name")]
    [TestCase("k8s:///greeter:Grpc", "IANA service name")]
    [TestCase("k8s:///greeter/x", "the path must be a single segment")]
    [TestCase("k8s:///greeter:80/x", "the path must be a single segment")]
    [TestCase("k8s:///greeter:80?x=1", "a query or fragment is not allowed")]
    [TestCase("k8s:///greeter:80#x", "a query or fragment is not allowed")]
    [TestCase("dns:///greeter:80", "the scheme must be 'k8s'")]
    public void Parse_MalformedAddress_ThrowsNamingTheAddressAndTheGrammar(string address, string problem)
    {
        Assert.That(() => Parse(address, defaultPort: ServicePort.FromNumber(80)), Throws.ArgumentException
            .With.Message.StartsWith($"Invalid Kubernetes address '{address}': ")
            .And.Message.Contains(problem)
            .And.Message.Contains(Grammar));
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
    public void Channel_NoPortWithoutDefaultPort_FailsAtConstructionInsteadOfDialingPort80()
    {
        var services = new ServiceCollection().AddKubernetesLoadBalancing(o => o.Observe = _ => new FakeDiscovery()).BuildServiceProvider();

        Assert.That(
            () => GrpcChannel.ForAddress("k8s:///greeter.demo", new GrpcChannelOptions { ServiceProvider = services, Credentials = Grpc.Core.ChannelCredentials.Insecure }),
            Throws.ArgumentException.With.Message.Contains("'k8s:///greeter.demo': the port is missing")
                .And.Message.Contains("KubernetesLoadBalancingOptions.DefaultPort"));
    }

    [TestCase("k8s:///greeter.demo")]
    [TestCase("k8s:///greeter.demo.svc.cluster.local")]
    public void Channel_NoPortWithDefaultPort_ObservesTheDefaultPort(string address)
    {
        DiscoveryConfig? seen = null;
        var services = new ServiceCollection()
            .AddKubernetesLoadBalancing(o =>
            {
                o.DefaultPort = ServicePort.FromNumber(50051);
                o.Observe = c => { seen = c; return new FakeDiscovery(); };
            })
            .BuildServiceProvider();

        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { ServiceProvider = services, Credentials = Grpc.Core.ChannelCredentials.Insecure });

        Assert.That(seen?.ToString(), Is.EqualTo("greeter.demo:50051"));
    }

    [Test]
    public void Factory_DefaultSource_IsKubernetesDiscovery()
    {
        var method = KubernetesResolverFactory.DefaultObserve.Method;

        Assert.That(method, Is.EqualTo(typeof(KubernetesDiscovery).GetMethod(nameof(KubernetesDiscovery.Observe), [typeof(DiscoveryConfig)])));
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
