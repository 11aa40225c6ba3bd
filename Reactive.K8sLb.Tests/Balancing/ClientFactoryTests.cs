using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary><c>AddKubernetesLoadBalancing</c> with Grpc.Net.ClientFactory and a <c>k8s:///</c> address.</summary>
public sealed class ClientFactoryTests
{
    [Test]
    public async Task AddGrpcClient_K8sAddress_ResolvesThroughTheFactoryAndBalances()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        var discovery = new FakeDiscovery();
        DiscoveryConfig? observed = null;
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.Observe = config =>
        {
            observed = config;
            return discovery;
        });
        services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri($"k8s:///greeter.demo:{pods.Port}"))
            .ConfigureChannel(o => o.Credentials = ChannelCredentials.Insecure);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Greeter.GreeterClient>();
        discovery.Insert([.. pods.Names.Select(n => (System.Net.EndPoint)pods.EndPoint(n))]);

        await Eventually.That(async () =>
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            return pods.Names.All(n => pods.HitsOf(n) > 0);
        }, TimeSpan.FromSeconds(10), "calls reach every pod");
        pods.ResetCounts();
        for (var i = 0; i < 90; i++) await client.SayHelloAsync(new HelloRequest { Name = "x" });

        Assert.That(observed?.ToString(), Is.EqualTo($"greeter.demo:{pods.Port}"));
        foreach (var name in pods.Names) Assert.That(pods.HitsOf(name), Is.InRange(27, 33), name);
    }

    [Test]
    public async Task FactoryResolver_SubscribesWhenTheChannelStarts_AndStopsWhenItIsDisposed()
    {
        var discovery = new FakeDiscovery();
        var services = new ServiceCollection().AddKubernetesLoadBalancing(o => o.Observe = _ => discovery).BuildServiceProvider();
        var channel = Grpc.Net.Client.GrpcChannel.ForAddress("k8s:///greeter.demo:50051",
            new Grpc.Net.Client.GrpcChannelOptions { ServiceProvider = services, Credentials = ChannelCredentials.Insecure });
        Assert.That(discovery.HasObservers, Is.False, "no watch before the channel starts resolving");

        _ = channel.ConnectAsync();
        await Eventually.That(() => discovery.HasObservers, "the resolver subscribes");
        channel.Dispose();

        Assert.That(discovery.HasObservers, Is.False);
    }
}
