using System.Net;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Linq;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Faults;

/// <summary>Defects found by an independent review of the fault and surface work, each pinned by a test.</summary>
public sealed class ReviewFindingsTests : ReactiveTest
{
    private static DiscoveryConfig Config(KubernetesApiEmulator emulator) => new("greeter", "grpc")
    {
        Namespace = "demo",
        ClientConfiguration = emulator.ClientConfiguration,
        Debounce = TimeSpan.Zero,
    };

    [Test]
    public async Task UpdatesSubscriberThrows_TheWatchGoesOn()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", 8080));
        service.AddPod("10.0.0.1");
        var seen = 0;
        using var subscription = KubernetesDiscovery.Observe(Config(emulator)).Updates.Subscribe(update =>
        {
            if (update.Changes.Count > 0) Interlocked.Increment(ref seen);
            throw new InvalidOperationException("subscriber bug");
        });
        await Eventually.That(() => Volatile.Read(ref seen) == 1, "the first endpoint arrives");

        service.AddPod("10.0.0.2");

        await Eventually.That(() => Volatile.Read(ref seen) == 2, "a later endpoint arrives too (before: the watch was disposed)");
    }

    [Test]
    public async Task SharedWatch_OneSubscriberThrows_TheOtherKeepsReceiving()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", 8080));
        service.AddPod("10.0.0.1");
        var shared = KubernetesDiscovery.Observe(Config(emulator)).Share();
        var good = new List<Change<EndPoint>>();
        using var a = shared.Subscribe(change => { lock (good) good.Add(change); });
        using var b = shared.Updates.Subscribe(_ => throw new InvalidOperationException("subscriber bug"));
        await Eventually.That(() => { lock (good) return good.Count == 1; }, "the first endpoint arrives");

        service.AddPod("10.0.0.2");
        service.AddPod("10.0.0.3");

        await Eventually.That(() => { lock (good) return good.Count == 3; }, "the well-behaved subscriber gets every change");
    }

    [Test]
    public void PlaceholderSliceWithoutPorts_IsNoReadyEndpoints_NotPortNotFound()
    {
        // The EndpointSlice controller's placeholder for a Service without pods: no endpoints, `ports: []`.
        var scheduler = new TestScheduler();
        var logs = new CapturingLoggerFactory();
        var source = scheduler.CreateHotObservable(OnNext(210, SliceEvent.Reset([Slice("greeter-abcde", [], ports: [])])));
        var config = new DiscoveryConfig("greeter", "grpc") { Scheduler = scheduler, LoggerFactory = logs };

        var observer = scheduler.Start(() => source.ToEndpointChanges(config).Updates.Select(u => u.Status.Message));

        Assert.That(observer.Messages.Single().Value.Value, Is.EqualTo("no ready endpoints for Service 'greeter'"));
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 103), Is.Empty, "no 'port missing' warning for a placeholder");
    }

    [Test]
    public void BackoffKeysInConfiguration_AreBound()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["K:Backoff:Initial"] = "00:00:01",
            ["K:Backoff:Maximum"] = "00:00:05",
        }).Build();
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(configuration.GetSection("K"));
        using var provider = services.BuildServiceProvider();

        var backoff = provider.GetRequiredService<IOptions<KubernetesLoadBalancingOptions>>().Value.Backoff;

        Assert.That(backoff.Initial, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(backoff.Maximum, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(backoff.Multiplier, Is.EqualTo(BackoffOptions.Default.Multiplier));
    }

    [Test]
    public void SynchronousScheduler_FailsValidationNamingIt()
    {
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.Scheduler = ImmediateScheduler.Instance);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<KubernetesLoadBalancingOptions>>().Value)!;

        Assert.That(ex.Message, Does.Contain("Scheduler"));
    }

    [Test]
    public async Task OtherResolverReturnsNoAddress_OurPolicyFailsTheCallAtOnce()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new EmptyResolverFactory());
        services.AddSingleton<LoadBalancerFactory>(new NewestFirstRoundRobinBalancerFactory());
        await using var provider = services.BuildServiceProvider();
        using var channel = GrpcChannel.ForAddress("empty:///nothing", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = provider,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig() } },
        });

        var call = new Greeter.GreeterClient(channel).SayHelloAsync(new HelloRequest { Name = "x" });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync.WaitAsync(Eventually.DefaultTimeout));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Unavailable), "before: the call waited forever");
    }

    private sealed class EmptyResolverFactory : ResolverFactory
    {
        public override string Name => "empty";

        public override Resolver Create(ResolverOptions options) => new EmptyResolver();

        private sealed class EmptyResolver : Resolver
        {
            public override void Start(Action<ResolverResult> listener) => listener(ResolverResult.ForResult([]));
        }
    }
}
