using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Telemetry;

/// <summary>
/// The instruments of every stage read together during one real scenario (emulator, real pods, a <c>k8s:///</c>
/// channel or a BalancedChannel), as a dashboard would: they must agree with each other and with what the test did,
/// and every log message must name the Service and namespace.
/// </summary>
public sealed class ObservabilityScenarioTests
{
    private const string Ns = "obs";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task K8sChannel_ScaleUpThenNotReady_GaugesPicksAndResolverAgree_AndEveryLogNamesTheService()
    {
        var name = "scenario-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new InstrumentRecorder();
        var logs = new CapturingLoggerFactory();
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        await using var pods = await GreeterPods.StartAsync(2);
        var service = emulator.AddService(Ns, name, new EmulatedServicePort("grpc", pods.Port));
        foreach (var pod in pods.Names) service.AddPod(Ip(pods, pod), name: pod);

        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddKubernetesLoadBalancing(o =>
        {
            o.ClientConfiguration = emulator.ClientConfiguration;
            o.Debounce = TimeSpan.FromMilliseconds(10);
        });
        await using var provider = services.BuildServiceProvider();
        var channel = GrpcChannel.ForAddress($"k8s:///{name}.{Ns}:grpc", new GrpcChannelOptions { ServiceProvider = provider, Credentials = ChannelCredentials.Insecure });
        var client = new Greeter.GreeterClient(channel);
        var calls = 0;
        async Task<bool> CallReaches(string pod)
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            calls++;
            return pods.HitsOf(pod) > 0;
        }

        foreach (var pod in pods.Names) await Eventually.That(() => CallReaches(pod), Timeout, $"{pod} serves");
        Assert.That(recorder.Gauge("k8slb.discovery.endpoints", name, (DiscoveryGauges.StateTag, "ready")), Is.EqualTo(2));
        Assert.That(recorder.Gauge("k8slb.discovery.status", name, (DiscoveryGauges.HealthTag, "healthy")), Is.EqualTo(1));
        Assert.That(recorder.Gauge("k8slb.discovery.unsynchronized", name), Is.Zero);

        // Scale up: the third pod joins; then the first turns not ready.
        var third = await pods.AddAsync();
        service.AddPod(Ip(pods, third), name: third);
        await Eventually.That(() => CallReaches(third), Timeout, "the new pod serves");
        service.SetReady(Ip(pods, pods.Names[0]), ready: false);
        await Eventually.That(
            () => recorder.Gauge("k8slb.discovery.endpoints.unused", name, (DiscoveryGauges.ReasonTag, "not_ready")) == 1,
            Timeout,
            "the not-ready pod counts as unused");
        await Eventually.That(() => recorder.Sum("k8slb.resolver.updates", name) >= 3, Timeout, "three address lists published");
        var published = recorder.Sum("k8slb.resolver.updates", name);
        var picksBefore = recorder.Sum("k8slb.endpoint.picks", name);
        for (var i = 0; i < 20; i++)
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            calls++;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(recorder.Gauge("k8slb.discovery.endpoints", name, (DiscoveryGauges.StateTag, "ready")), Is.EqualTo(2));
            Assert.That(recorder.Gauge("k8slb.discovery.endpoints", name, (DiscoveryGauges.StateTag, "serving_terminating")), Is.Zero);

            // Every call was picked for this Service (the balancer learns the Service from the resolver), and the
            // 20 calls after the pod turned not ready went to the two ready pods only.
            Assert.That(recorder.Sum("k8slb.endpoint.picks", name), Is.EqualTo(calls));
            Assert.That(recorder.Sum("k8slb.endpoint.picks", name) - picksBefore, Is.EqualTo(20));
            Assert.That(
                recorder.ForService("k8slb.endpoint.picks", name).Where(m => Equals(m.Tag("network.peer.address"), Ip(pods, pods.Names[0]))).Sum(m => m.Value),
                Is.LessThan(calls - 20),
                "no pick of the not-ready pod after the change");

            // Each published list is one update of the changes histogram; the delay histogram has a positive value
            // for every list that carried a watch event's change.
            Assert.That(recorder.ForService("k8slb.resolver.update.changes", name), Has.Count.EqualTo((int)published));
            Assert.That(recorder.ForService("k8slb.resolver.update.delay", name).Select(m => m.Value).ToList(), Has.Count.GreaterThanOrEqualTo(3).And.All.Positive);
            // One streaming list (a WATCH with sendInitialEvents, the default against this server), no LIST, no relist.
            Assert.That(emulator.Requests.Count(r => r.IsStreamingList), Is.EqualTo(1));
            Assert.That(recorder.Sum("k8slb.api.requests", name, ("k8slb.api.verb", "list")), Is.Zero);
            Assert.That(recorder.Sum("k8slb.watch.relists", name), Is.Zero);
        }

        channel.Dispose();
        await Eventually.That(() => recorder.Observe("k8slb.discovery.status", name).Count == 0, Timeout, "the disposed channel's discovery leaves the gauges");

        // The library's messages (not grpc-dotnet's, which share the factory) carry the scope, or name the Service in
        // their text: the balancer's messages before the first address list cannot know it otherwise (grpc-dotnet
        // passes a balancer no resolver attributes), and those say "Service obs/name".
        var ours = logs.ScopedEntries.Where(e => e.Category.StartsWith("Reactive.K8sLb", StringComparison.Ordinal)).ToList();
        var unscoped = ours
            .Where(e => !e.Scopes.OfType<ServiceLogScope>().Any(s => s.Service == name && s.Namespace == Ns))
            .Where(e => !e.Message.Contains($"{Ns}/{name}", StringComparison.Ordinal))
            .ToList();
        Assert.That(ours.Select(e => e.Category).Distinct(), Is.SupersetOf(new[] { "Reactive.K8sLb.Discovery", "Reactive.K8sLb.Resolver", "Reactive.K8sLb.Balancer" }));
        Assert.That(unscoped.Select(e => $"{e.EventId}: {e.Message}"), Is.Empty, "every message names the Service and namespace");
    }

    [Test]
    public async Task Observe_OutageThenRecovery_StatusGaugeGoesHealthyFailingHealthy_AndTheEndpointsStay()
    {
        var name = "outage-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new InstrumentRecorder();
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 5000));
        service.AddPod("10.7.0.1");
        service.AddPod("10.7.0.2");
        var config = new DiscoveryConfig(name, "grpc")
        {
            Namespace = Ns,
            ClientConfiguration = emulator.ClientConfiguration,
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(100)),
        };
        double Health(string health) => recorder.Gauge("k8slb.discovery.status", name, (DiscoveryGauges.HealthTag, health));

        using (KubernetesDiscovery.Observe(config).Subscribe(_ => { }))
        {
            await Eventually.That(() => Health("healthy") == 1, Timeout, "healthy");
            Assert.That(recorder.Gauge("k8slb.discovery.endpoints", name, (DiscoveryGauges.StateTag, "ready")), Is.EqualTo(2));

            var outage = emulator.FailRequests(503, "the API server is shutting down");
            emulator.DropAllWatches();
            double ServerErrors() => recorder.Sum("k8slb.api.requests", name, ("k8slb.api.outcome", "server_error"), ("http.response.status_code", 503));
            await Eventually.That(() => Health("failing") == 1 && ServerErrors() > 0, Timeout, "failing during the outage, a 503 counted");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(Health("healthy"), Is.Zero);
                Assert.That(Health("connecting"), Is.Zero);
                Assert.That(recorder.Gauge("k8slb.discovery.endpoints", name, (DiscoveryGauges.StateTag, "ready")), Is.EqualTo(2), "the last known set stays");
                Assert.That(recorder.Gauge("k8slb.discovery.unsynchronized", name), Is.Zero);
            }

            outage.Dispose();
            await Eventually.That(() => Health("healthy") == 1, Timeout, "healthy again after the outage");
            Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List || r.IsStreamingList), Is.EqualTo(1), "resumed by resourceVersion: no relist");
            Assert.That(recorder.Sum("k8slb.watch.relists", name), Is.Zero, "resumed by resourceVersion: no relist");
        }

        Assert.That(recorder.Observe("k8slb.discovery.status", name), Is.Empty, "a disposed discovery leaves the gauges");
    }

    [Test]
    public async Task BuildRefusesEveryEndpoint_HealthCheckIsUnhealthyWithTheReason_AndTheChannelCountsNone()
    {
        var name = "refused-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new InstrumentRecorder();
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 5000));
        service.AddPod("10.8.0.1");
        service.AddPod("10.8.0.2");
        var config = new DiscoveryConfig(name, "grpc") { Namespace = Ns, ClientConfiguration = emulator.ClientConfiguration, ReportHealth = true };
        using var channel = BalancedChannel.Create();
        var check = new Reactive.K8sLb.HealthChecks.KubernetesDiscoveryHealthCheck(s => s.Service == name);

        using var subscription = KubernetesDiscovery.Observe(config).ApplyTo(channel, (System.Net.EndPoint _) => throw new InvalidOperationException("no certificate for this pod"));
        await Eventually.That(
            () => recorder.Gauge("k8slb.discovery.endpoints.unused", name, (DiscoveryGauges.ReasonTag, "build_failed")) == 2,
            Timeout,
            "both endpoints refused by the build");

        var result = check.Check(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy);
        var entry = (IReadOnlyDictionary<string, object>)result.Data[$"{Ns}/{name}"];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(recorder.Gauge("k8slb.discovery.endpoints", name), Is.Zero, "nothing reaches the channel");
            Assert.That(entry["health"], Is.EqualTo("Unhealthy"));
            Assert.That(entry["endpoints"], Is.Zero);
            Assert.That(entry["reason"], Is.EqualTo($"the build function failed for all 2 endpoints of Service {Ns}/{name}"));
        }
    }

    [Test]
    public async Task TwoChannelsToOnePod_OpenConnectionsIsOneSeriesOfTwo()
    {
        var name = "twice-" + Guid.NewGuid().ToString("N")[..8];
        using var recorder = new InstrumentRecorder();
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        await using var pods = await GreeterPods.StartAsync(1);
        var pod = pods.Names[0];
        emulator.AddService(Ns, name, new EmulatedServicePort("grpc", pods.Port)).AddPod(Ip(pods, pod), name: pod);
        var config = new DiscoveryConfig(name, "grpc") { Namespace = Ns, ClientConfiguration = emulator.ClientConfiguration };
        using var first = BalancedChannel.Create();
        using var second = BalancedChannel.Create();
        using var one = KubernetesDiscovery.Observe(config).ApplyTo(first);
        using var two = KubernetesDiscovery.Observe(config).ApplyTo(second);

        await new Greeter.GreeterClient(first).SayHelloAsync(new HelloRequest { Name = "x" });
        await new Greeter.GreeterClient(second).SayHelloAsync(new HelloRequest { Name = "x" });

        var series = recorder.Observe("grpc.subchannel.open_connections", name);
        Assert.That(series.Select(m => m.Value), Is.EqualTo(new[] { 2.0 }), string.Join("; ", series));
    }

    private static string Ip(GreeterPods pods, string pod) => pods.EndPoint(pod).Address.ToString();
}
