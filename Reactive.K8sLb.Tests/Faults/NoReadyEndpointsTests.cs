using Grpc.Core;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Faults;

/// <summary>
/// When no pod is ready, calls must not go to not-ready pods (grpc-dotnet's round_robin ignores an empty list while
/// Ready, grpc/grpc-dotnet#1860): they fail with <c>Unavailable</c> naming the Service, until a pod is ready again.
/// The API emulator, the real KubernetesClient and real gRPC servers on 127.0.0.x.
/// </summary>
public sealed class NoReadyEndpointsTests
{
    private const string Ns = "demo";
    private const string ServiceName = "greeter";

    [Test]
    public async Task EveryPodNotReady_CallsFailNamingTheService_ThenSucceedOnThePodThatIsReadyAgain()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        await using var pods = await GreeterPods.StartAsync(3);
        var service = emulator.AddService(Ns, ServiceName, new EmulatedServicePort("grpc", pods.Port));
        foreach (var name in pods.Names) service.AddPod(Ip(pods, name), name: name);
        using var channel = BalancedChannel.Create();
        using var discovery = KubernetesDiscovery.Observe(Config(emulator)).ApplyTo(channel);
        var client = new Greeter.GreeterClient(channel);
        await Eventually.That(async () => await Succeeds(client), TimeSpan.FromSeconds(15), "calls succeed");

        foreach (var name in pods.Names) service.SetReady(Ip(pods, name), false);
        await Eventually.That(async () => !await Succeeds(client), TimeSpan.FromSeconds(15), "calls fail once no pod is ready");
        pods.ResetCounts();
        var failures = new List<RpcException>();
        for (var i = 0; i < 20; i++) failures.Add((await Assert.ThrowsAsync<RpcException>(() => client.SayHelloAsync(new HelloRequest { Name = "x" }).ResponseAsync))!);

        Assert.That(pods.Names.Sum(pods.HitsOf), Is.Zero, "no call reached a not-ready pod");
        Assert.That(failures.Select(f => f.StatusCode), Has.All.EqualTo(StatusCode.Unavailable));
        Assert.That(failures[0].Status.Detail, Is.EqualTo($"no ready endpoints for Service {Ns}/{ServiceName}"));

        service.SetReady(Ip(pods, "pod-2"), true);
        await Eventually.That(async () => await Succeeds(client), TimeSpan.FromSeconds(15), "a call succeeds once pod-2 is ready");
        Assert.That(pods.HitsOf("pod-2"), Is.EqualTo(pods.Names.Sum(pods.HitsOf)), "only pod-2 serves");
    }

    [Test]
    public async Task PortNameNoSliceDefines_CallsFailSayingSo()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService(Ns, ServiceName, new EmulatedServicePort("http", 8080));
        service.AddPod("127.0.0.2");
        using var channel = BalancedChannel.Create();
        using var discovery = KubernetesDiscovery.Observe(Config(emulator)).ApplyTo(channel);

        var failure = await Assert.ThrowsAsync<RpcException>(() => new Greeter.GreeterClient(channel).SayHelloAsync(new HelloRequest { Name = "x" }).ResponseAsync);

        Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(failure.Status.Detail, Is.EqualTo($"port 'grpc' not found in any EndpointSlice of Service {Ns}/{ServiceName}"));
    }

    [Test]
    public async Task ServiceWithoutSlices_CallsFailSayingSo()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        using var channel = BalancedChannel.Create();
        using var discovery = KubernetesDiscovery.Observe(Config(emulator)).ApplyTo(channel);

        var failure = await Assert.ThrowsAsync<RpcException>(() => new Greeter.GreeterClient(channel).SayHelloAsync(new HelloRequest { Name = "x" }).ResponseAsync);

        Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(failure.Status.Detail, Does.StartWith($"no EndpointSlices for Service {Ns}/{ServiceName}"));
    }

    private static string Ip(GreeterPods pods, string name) => pods.EndPoint(name).Address.ToString();

    private static DiscoveryConfig Config(KubernetesApiEmulator emulator) => new(ServiceName, "grpc")
    {
        Namespace = Ns,
        ClientConfiguration = emulator.ClientConfiguration,
        Debounce = TimeSpan.FromMilliseconds(20),
    };

    private static async Task<bool> Succeeds(Greeter.GreeterClient client)
    {
        try
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            return true;
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable)
        {
            return false;
        }
    }
}
