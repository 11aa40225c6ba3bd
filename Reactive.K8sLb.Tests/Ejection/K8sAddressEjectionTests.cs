using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Ejection;

/// <summary>Outlier ejection on a <c>k8s:///</c> client from <c>AddGrpcClient</c>, with <see cref="OutlierDetectionInterceptor"/>.</summary>
public sealed class K8sAddressEjectionTests
{
    [Test]
    public async Task AddGrpcClientWithTheInterceptor_EjectsAPodFailingEveryCall()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        using var recorder = new InstrumentRecorder();
        var discovery = new FakeDiscovery();
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.Observe = _ => discovery);
        services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri($"k8s:///ejection.demo:{pods.Port}"))
            .ConfigureChannel(o => o.Credentials = ChannelCredentials.Insecure)
            .AddInterceptor(() => new OutlierDetectionInterceptor());
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Greeter.GreeterClient>();
        discovery.Insert([.. pods.Names.Select(n => (System.Net.EndPoint)pods.EndPoint(n))]);
        await Eventually.That(async () =>
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            return pods.Names.All(n => pods.HitsOf(n) > 0);
        }, TimeSpan.FromSeconds(10), "calls reach every pod");

        pods.SetFault("pod-3", StatusCode.Unavailable);
        var failed = 0;
        await Eventually.That(async () =>
        {
            try
            {
                await client.SayHelloAsync(new HelloRequest { Name = "x" });
            }
            catch (RpcException)
            {
                failed++;
            }

            return recorder.Sum("k8slb.endpoint.ejections", "ejection", ("network.peer.port", pods.Port)) == 1;
        }, TimeSpan.FromSeconds(10), "pod-3 is ejected");

        Assert.That(failed, Is.EqualTo(5));
        Assert.That(recorder.Sum("k8slb.endpoint.ejections", "ejection", ("network.peer.address", pods.EndPoint("pod-3").Address.ToString())), Is.EqualTo(1));
    }
}
