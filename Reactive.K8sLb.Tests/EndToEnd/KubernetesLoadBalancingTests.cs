using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.EndToEnd;

/// <summary>
/// The whole product: the API emulator publishes EndpointSlices of real gRPC servers on 127.0.0.x, the real
/// KubernetesClient watches them, and a BalancedChannel spreads calls over the ready pods.
/// </summary>
public sealed class KubernetesLoadBalancingTests
{
    private const string Ns = "demo";
    private const string ServiceName = "greeter";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task InitialDiscovery_ThreePods_300CallsSpreadEvenly()
    {
        await using var world = await World.StartAsync(3);
        using var subscription = KubernetesDiscovery.Observe(world.Config()).ApplyTo(world.Channel);
        await world.AllServing(world.Pods.Names);
        world.Pods.ResetCounts();

        for (var i = 0; i < 300; i++) await world.Call();

        TestContext.Out.WriteLine(string.Join(", ", world.Pods.Names.Select(n => $"{n}={world.Pods.HitsOf(n)}")));
        foreach (var name in world.Pods.Names) Assert.That(world.Pods.HitsOf(name), Is.InRange(90, 110), name);
    }

    [Test]
    public async Task ScaleThreeToSix_NewPodsReceiveCallsPromptly()
    {
        await using var world = await World.StartAsync(3);
        using var subscription = KubernetesDiscovery.Observe(world.Config(debounce: TimeSpan.Zero)).ApplyTo(world.Channel);
        await world.AllServing(world.Pods.Names);
        var load = CallLoad.Start(world.Client);
        string[] added = [await world.Pods.AddAsync(), await world.Pods.AddAsync(), await world.Pods.AddAsync()];
        var written = new ConcurrentBag<long>();
        world.Emulator.EventWritten += e => written.Add(e.Timestamp);

        world.Service.Batch(s => { foreach (var name in added) s.AddPod(world.Ip(name), name: name); });
        await Eventually.That(() => added.All(n => world.Pods.HitsOf(n) > 0), Timeout, "every new pod serves a call");
        await load.StopAfterMoreCalls(20);

        var eventAt = written.Min();
        var latencies = added.Select(n => Stopwatch.GetElapsedTime(eventAt, world.Pods.FirstHit[n]).TotalMilliseconds).Order().ToArray();
        TestContext.Out.WriteLine($"slice event written -> first call served by each new pod: {string.Join(", ", latencies.Select(l => $"{l:F1} ms"))}; {load}");
        Assert.That(load.Failures, Is.Empty);
    }

    [Test]
    public async Task RollingUpdateOfEveryPod_WhileCallsRun_NoCallFails()
    {
        await using var world = await World.StartAsync(3);
        using var subscription = KubernetesDiscovery.Observe(world.Config()).ApplyTo(world.Channel);
        await world.AllServing(world.Pods.Names);
        var load = CallLoad.Start(world.Client);

        foreach (var old in world.Pods.Names.ToArray())
        {
            var fresh = await world.Pods.AddAsync();
            world.Service.AddPod(world.Ip(fresh), name: fresh);
            await Eventually.That(() => world.Pods.HitsOf(fresh) > 0, Timeout, $"{fresh} serves");
            world.Service.SetTerminating(world.Ip(old));
            world.Service.RemovePod(world.Ip(old));
            await load.UntilNoNewCallsReach(world.Pods, old, Timeout);
            await world.Pods.StopAsync(old);
        }

        await load.StopAfterMoreCalls(100);
        TestContext.Out.WriteLine($"rolling update of 3 pods: {load}");
        Assert.That(load.Failures, Is.Empty);
    }

    [Test]
    public async Task PodTurnsNotReady_StopsReceivingNewCalls()
    {
        await using var world = await World.StartAsync(3);
        using var subscription = KubernetesDiscovery.Observe(world.Config()).ApplyTo(world.Channel);
        await world.AllServing(world.Pods.Names);
        var victim = world.Pods.Names[1];

        world.Service.SetReady(world.Ip(victim), false);

        await Eventually.That(async () =>
        {
            var before = world.Pods.HitsOf(victim);
            for (var i = 0; i < 30; i++) await world.Call();
            return world.Pods.HitsOf(victim) == before;
        }, Timeout, $"{victim} gets no new calls");
        Assert.That(world.Pods.Names.Where(n => n != victim).All(n => world.Pods.HitsOf(n) > 0), Is.True);
    }

    [Test]
    public async Task ForbiddenAtStart_CallFailsFastWithTheReason_ThenSucceedsOnTheSameChannel()
    {
        await using var world = await World.StartAsync(2);
        var fault = world.Emulator.FailRequests(403, KubernetesApiEmulator.ForbiddenListMessage(Ns));
        using var subscription = KubernetesDiscovery.Observe(world.Config()).ApplyTo(world.Channel);

        var failure = await Assert.ThrowsAsync<RpcException>(async () =>
            await world.Client.SayHelloAsync(new HelloRequest { Name = "x" }, deadline: DateTime.UtcNow.AddSeconds(10)));

        Assert.That(failure!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(failure.Status.Detail, Does.Contain("forbidden").And.Contain("endpointslices"));
        fault.Dispose();
        await world.AllServing(world.Pods.Names, tolerateUnavailable: true);
    }

    [Test]
    public async Task DependencyInjection_AddGrpcClientWithK8sAddress_BalancesOverTheEmulatorsPods()
    {
        await using var world = await World.StartAsync(3);
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o =>
        {
            o.ClientConfiguration = world.Emulator.ClientConfiguration;
            o.Backoff = world.Config().Backoff;
        });
        services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri($"k8s:///{ServiceName}.{Ns}:grpc"))
            .ConfigureChannel(o => o.Credentials = ChannelCredentials.Insecure);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<Greeter.GreeterClient>();

        await Eventually.That(async () =>
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            return world.Pods.Names.All(n => world.Pods.HitsOf(n) > 0);
        }, Timeout, "calls reach every pod");
    }

    [Test]
    public async Task DisposingTheChannel_StopsTheWatch()
    {
        await using var world = await World.StartAsync(1);
        var channel = BalancedChannel.Create();
        KubernetesDiscovery.Observe(world.Config()).ApplyTo(channel);
        await world.Emulator.WaitForOpenWatchesAsync(1, Timeout);

        channel.Dispose();

        await world.Emulator.WaitForOpenWatchesAsync(0, Timeout);
    }

    [Test]
    public async Task Discover_IntoTheChannelsUpdates_BalancesLikeApplyTo()
    {
        await using var world = await World.StartAsync(2);

        using var discovery = KubernetesDiscovery.Discover(world.Config(), world.Channel.Updates, endpoint => new Grpc.Net.Client.Balancer.BalancerAddress(((System.Net.IPEndPoint)endpoint).Address.ToString(), ((System.Net.IPEndPoint)endpoint).Port));

        await world.AllServing(world.Pods.Names);
    }

    /// <summary>An emulator, a service whose pods are real gRPC servers, and a balanced channel.</summary>
    private sealed class World : IAsyncDisposable
    {
        private World(KubernetesApiEmulator emulator, GreeterPods pods, EmulatedService service)
        {
            Emulator = emulator;
            Pods = pods;
            Service = service;
            Channel = BalancedChannel.Create();
            Client = new Greeter.GreeterClient(Channel);
        }

        public KubernetesApiEmulator Emulator { get; }

        public GreeterPods Pods { get; }

        public EmulatedService Service { get; }

        public BalancedChannel Channel { get; }

        public Greeter.GreeterClient Client { get; }

        public static async Task<World> StartAsync(int pods)
        {
            var emulator = await KubernetesApiEmulator.StartAsync();
            var greeters = await GreeterPods.StartAsync(pods);
            var service = emulator.AddService(Ns, ServiceName, new EmulatedServicePort("grpc", greeters.Port));
            var world = new World(emulator, greeters, service);
            foreach (var name in greeters.Names) service.AddPod(world.Ip(name), name: name);
            return world;
        }

        public string Ip(string pod) => Pods.EndPoint(pod).Address.ToString();

        public DiscoveryConfig Config(TimeSpan? debounce = null) => new(ServiceName, "grpc")
        {
            Namespace = Ns,
            ClientConfiguration = Emulator.ClientConfiguration,
            Debounce = debounce ?? TimeSpan.FromMilliseconds(20),
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
        };

        public async Task<string> Call() => (await Client.SayHelloAsync(new HelloRequest { Name = "x" })).Pod;

        /// <summary>Calls until every named pod has served one; optionally riding out Unavailable while discovery recovers.</summary>
        public Task AllServing(IEnumerable<string> names, bool tolerateUnavailable = false) => Eventually.That(async () =>
        {
            try
            {
                await Call();
            }
            catch (RpcException e) when (tolerateUnavailable && e.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }

            return names.All(n => Pods.HitsOf(n) > 0);
        }, Timeout, $"calls reach {string.Join(", ", names)}");

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await Pods.DisposeAsync();
            await Emulator.DisposeAsync();
        }
    }
}
