using Microsoft.Extensions.Logging.Abstractions;
using System.Net;
using System.Reactive.Linq;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>One argument check per public entry point.</summary>
public sealed class ArgumentTests
{
    [Test]
    public void Create_WithHttpClient_Throws()
    {
        using var client = new HttpClient();

        Assert.That(() => BalancedChannel.Create(new GrpcChannelOptions { HttpClient = client }),
            Throws.ArgumentException.With.Message.Contains("SocketsHttpHandler"));
    }

    [Test]
    public void ApplyTo_NullArguments_Throw()
    {
        using var channel = BalancedChannel.Create();
        var source = Observable.Never<Change<EndPoint>>();

        Assert.That(() => ((IObservable<Change<EndPoint>>)null!).ApplyTo(channel), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("source"));
        Assert.That(() => source.ApplyTo(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("channel"));
    }

    [Test]
    public void ApplyWithMetadataTo_NullArguments_Throw()
    {
        using var channel = BalancedChannel.Create();
        var source = new FakeDiscovery();
        Func<KubernetesEndpoint, BalancerAddress> build = e => BalancerAddresses.Default(e.EndPoint);

        Assert.That(() => ((IDiscoveryObservable)null!).ApplyWithMetadataTo(channel, build), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("source"));
        Assert.That(() => source.ApplyWithMetadataTo(null!, build), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("channel"));
        Assert.That(() => source.ApplyWithMetadataTo(channel, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("build"));
        Assert.That(source.HasObservers, Is.False);
    }

    [Test]
    public void DiscoverWithMetadata_NullArguments_Throw()
    {
        using var channel = BalancedChannel.Create();
        var config = new DiscoveryConfig("greeter", "grpc");
        var tx = System.Reactive.Observer.Create<Change<BalancerAddress>>(_ => { });
        Func<KubernetesEndpoint, BalancerAddress> build = e => BalancerAddresses.Default(e.EndPoint);

        Assert.That(() => KubernetesDiscovery.DiscoverWithMetadata(null!, tx, build), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("config"));
        Assert.That(() => KubernetesDiscovery.DiscoverWithMetadata(config, (IObserver<Change<BalancerAddress>>)null!, build), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("tx"));
        Assert.That(() => KubernetesDiscovery.DiscoverWithMetadata(config, tx, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("build"));
        Assert.That(() => KubernetesDiscovery.DiscoverWithMetadata(null!, channel, build), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("config"));
        Assert.That(() => KubernetesDiscovery.DiscoverWithMetadata(config, (BalancedChannel)null!, build), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("channel"));
        Assert.That(() => KubernetesDiscovery.DiscoverWithMetadata(config, channel, null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("build"));
    }

    [Test]
    public void DiscoveryUpdateFromEndpointChanges_NullArguments_Throw()
    {
        Assert.That(() => DiscoveryUpdate.FromEndpointChanges(null!, FakeDiscovery.Healthy), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("endpointChanges"));
        Assert.That(() => DiscoveryUpdate.FromEndpointChanges([], null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("status"));
        Assert.That(() => DiscoveryUpdate.FromEndpointChanges([Change.Insert<KubernetesEndpoint>(null!)], FakeDiscovery.Healthy), Throws.ArgumentException.With.Property("ParamName").EqualTo("endpointChanges"));
    }

    [Test]
    public void ApplyTo_DisposedChannel_ThrowsWithoutSubscribing()
    {
        var channel = BalancedChannel.Create();
        channel.Dispose();
        var source = new FakeDiscovery();

        Assert.That(() => source.ApplyTo(channel), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(source.HasObservers, Is.False);
    }

    [Test]
    public void DiscoverCore_NullArguments_Throw()
    {
        var source = new FakeDiscovery();
        var tx = System.Reactive.Observer.Create<Change<BalancerAddress>>(_ => { });

        Assert.That(() => DiscoveryApplier.DiscoverCore(null!, tx, BalancerAddresses.Default, NullLoggerFactory.Instance), Throws.ArgumentNullException);
        Assert.That(() => DiscoveryApplier.DiscoverCore(source, null!, BalancerAddresses.Default, NullLoggerFactory.Instance), Throws.ArgumentNullException);
        Assert.That(() => DiscoveryApplier.DiscoverCore(source, tx, (Func<System.Net.EndPoint, Grpc.Net.Client.Balancer.BalancerAddress>)null!, NullLoggerFactory.Instance), Throws.ArgumentNullException);
    }

    [Test]
    public void KubernetesResolverFactory_NullArguments_Throw()
    {
        Assert.That(() => new KubernetesResolverFactory((Func<DiscoveryConfig, IDiscoveryObservable>)null!), Throws.ArgumentNullException);
        Assert.That(() => new KubernetesResolverFactory(_ => new FakeDiscovery()).Create(null!), Throws.ArgumentNullException);
        Assert.That(new KubernetesResolverFactory().Name, Is.EqualTo("k8s"));
    }

    [Test]
    public void AddKubernetesLoadBalancing_NullServices_Throws()
    {
        Assert.That(() => ((IServiceCollection)null!).AddKubernetesLoadBalancing(), Throws.ArgumentNullException);
    }

    [Test]
    public void AddKubernetesLoadBalancing_Twice_RegistersOneFactory()
    {
        var services = new ServiceCollection().AddKubernetesLoadBalancing().AddKubernetesLoadBalancing();

        Assert.That(services.BuildServiceProvider().GetServices<ResolverFactory>().OfType<KubernetesResolverFactory>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void Updates_OnErrorNull_Throws()
    {
        using var channel = BalancedChannel.Create();

        Assert.That(() => channel.Updates.OnError(null!), Throws.ArgumentNullException);
    }
}
