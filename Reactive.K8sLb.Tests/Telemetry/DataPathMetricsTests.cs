using System.Net;
using System.Reactive.Concurrency;
using System.Reactive.Subjects;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Linq;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Emulator;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Telemetry;

/// <summary>
/// The data-path instruments read through a <see cref="System.Diagnostics.Metrics.MeterListener"/> during real
/// scenarios on the API emulator: the endpoint gauges, the build_failed reason, the resolver's updates, changes per
/// update and event-to-publish delay, and the Service identity the resolver attaches to its results.
/// </summary>
public sealed class DataPathMetricsTests : EmulatorFixture
{
    private const string Endpoints = "k8slb.discovery.endpoints";
    private const string Unused = "k8slb.discovery.endpoints.unused";
    private const string Updates = "k8slb.resolver.updates";
    private const string Changes = "k8slb.resolver.update.changes";
    private const string Delay = "k8slb.resolver.update.delay";

    private static string UniqueService() => "m" + Guid.NewGuid().ToString("N")[..16];

    private DiscoveryConfig Config(string service) => new(service, "grpc")
    {
        ClientConfiguration = Emulator.ClientConfiguration,
        Debounce = TimeSpan.Zero,
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
    };

    [Test]
    public async Task EndpointGauges_FollowScaleUpReadinessFlipAndScaleDown()
    {
        using var recorder = new InstrumentRecorder();
        var name = UniqueService();
        var service = Emulator.AddService("default", name, Grpc);
        service.ScaleTo(2, Ip);
        var updates = new List<DiscoveryUpdate>();
        using var subscription = KubernetesDiscovery.Observe(Config(name)).Updates.Subscribe(u => { lock (updates) updates.Add(u); });

        double Ready() => recorder.Gauge(Endpoints, name, (DiscoveryGauges.StateTag, "ready"));
        double NotReady() => recorder.Gauge(Unused, name, (DiscoveryGauges.ReasonTag, "not_ready"));

        await Eventually.That(() => Ready() == 2, "2 ready after the first snapshot");
        service.ScaleTo(3, Ip);
        await Eventually.That(() => Ready() == 3, "3 ready after scaling up");
        service.SetReady(Ip(1), false);
        await Eventually.That(() => Ready() == 2 && NotReady() == 1, "one pod flipped to not ready");
        service.ScaleTo(1, Ip);
        await Eventually.That(() => Ready() == 1 && NotReady() == 0, "scaled down to one pod");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(recorder.Gauge(Endpoints, name, (DiscoveryGauges.StateTag, "serving_terminating")), Is.Zero);
            Assert.That(recorder.Observe(Endpoints, name).Select(m => m.Tag(K8sLbTelemetry.NamespaceTag)).Distinct(), Is.EqualTo(new[] { "default" }));
        }

        subscription.Dispose();
        Assert.That(recorder.Observe(Endpoints, name), Is.Empty, "a disposed discovery leaves the gauges");
    }

    [Test]
    public async Task ResolverInstruments_ScaleTwoToThree_OneUpdateWithOneChange_AndItsDelay()
    {
        using var recorder = new InstrumentRecorder();
        var name = UniqueService();
        var service = Emulator.AddService("default", name, Grpc);
        service.ScaleTo(2, Ip);
        using var channel = BalancedChannel.Create(null, TaskPoolScheduler.Default);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(r => { lock (results) results.Add(r); });
        using var subscription = KubernetesDiscovery.Observe(Config(name)).ApplyTo(channel);
        int LastCount() { lock (results) return results.Count > 0 ? results[^1].Addresses?.Count ?? 0 : 0; }
        await Eventually.That(() => LastCount() == 2, "the first snapshot is published");
        var updatesBefore = recorder.Sum(Updates, name);
        var changesBefore = recorder.ForService(Changes, name).Count;
        var delaysBefore = recorder.ForService(Delay, name).Count;

        service.ScaleTo(3, Ip);
        await Eventually.That(() => LastCount() == 3, "the third address is published");

        var changes = recorder.ForService(Changes, name).Skip(changesBefore).ToList();
        var delays = recorder.ForService(Delay, name).Skip(delaysBefore).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(updatesBefore, Is.GreaterThanOrEqualTo(1), "the first snapshot counted");
            Assert.That(recorder.Sum(Updates, name) - updatesBefore, Is.EqualTo(1));
            Assert.That(changes.Select(m => m.Value), Is.EqualTo(new[] { 1.0 }));
            Assert.That(delays, Has.Count.EqualTo(1));
            Assert.That(delays[0].Value, Is.GreaterThan(0).And.LessThan(Eventually.DefaultTimeout.TotalMilliseconds));
            Assert.That(delays[0].Tag(K8sLbTelemetry.NamespaceTag), Is.EqualTo("default"));
        }
    }

    [Test]
    public async Task ResolverInstruments_KubernetesScheme_RecordTheFirstSnapshotWithTheServiceTags()
    {
        using var recorder = new InstrumentRecorder();
        var name = UniqueService();
        var service = Emulator.AddService("default", name, Grpc);
        service.ScaleTo(3, Ip);
        var services = new ServiceCollection()
            .AddKubernetesLoadBalancing(o =>
            {
                o.ClientConfiguration = Emulator.ClientConfiguration;
                o.ServiceConfig = null;
            })
            .BuildServiceProvider();
        using var channel = GrpcChannel.ForAddress($"k8s:///{name}.default:grpc", new GrpcChannelOptions
        {
            ServiceProvider = services,
            Credentials = global::Grpc.Core.ChannelCredentials.Insecure,
        });
        using var cancel = new CancellationTokenSource();

        var connecting = channel.ConnectAsync(cancel.Token);
        await Eventually.That(() => recorder.ForService(Delay, name).Count > 0, "the first address list is published");
        await cancel.CancelAsync();
        try
        {
            await connecting;
        }
        catch (OperationCanceledException)
        {
        }

        var first = recorder.ForService(Changes, name)[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(first.Value, Is.EqualTo(3), "the snapshot's three inserts");
            Assert.That(first.Tag(K8sLbTelemetry.NamespaceTag), Is.EqualTo("default"));
            Assert.That(recorder.Sum(Updates, name), Is.GreaterThanOrEqualTo(1));
            Assert.That(recorder.ForService(Delay, name)[0].Value, Is.GreaterThan(0));
        }
    }

    [Test]
    public async Task BuildThrowsForOnePod_BuildFailedGaugeCountsIt_UntilThePodLeaves()
    {
        using var recorder = new InstrumentRecorder();
        var name = UniqueService();
        var service = Emulator.AddService("default", name, Grpc);
        service.ScaleTo(3, Ip);
        using var channel = BalancedChannel.Create(null, TaskPoolScheduler.Default);
        var poisoned = IPAddress.Parse(Ip(2));
        using var subscription = KubernetesDiscovery.Observe(Config(name)).ApplyTo(channel, endPoint =>
            ((IPEndPoint)endPoint).Address.Equals(poisoned) ? throw new InvalidOperationException("no address for this one") : Internal.BalancerAddresses.Default(endPoint));
        double BuildFailed() => recorder.Gauge(Unused, name, (DiscoveryGauges.ReasonTag, "build_failed"));

        await Eventually.That(() => BuildFailed() == 1, "the endpoint whose build threw is counted");
        Assert.That(recorder.Gauge(Endpoints, name, (DiscoveryGauges.StateTag, "ready")), Is.EqualTo(2), "the channel has the other two; the refused one counts as unused only");
        service.ScaleTo(2, Ip);

        await Eventually.That(() => BuildFailed() == 0, "it left the set");
    }

    [Test]
    public void Resolver_AttachesTheServiceIdentity_ToEveryResultItPublishes()
    {
        var scheduler = new TestScheduler();
        using var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        scheduler.AdvanceBy(1);
        var slices = new Subject<SliceEvent>();
        var config = new DiscoveryConfig("identity-svc", "grpc") { Namespace = "team-a", Scheduler = scheduler, Debounce = TimeSpan.Zero };
        using var subscription = slices.ToEndpointChanges(config).ApplyTo(channel);

        slices.OnNext(SliceEvent.Reset([Core.Slices.Ready("a", "10.0.0.1")]));
        scheduler.AdvanceBy(1);
        slices.OnNext(SliceEvent.Reset([]));
        scheduler.AdvanceBy(1);

        var published = results.Skip(1).ToList();
        Assert.That(published.Select(r => r.Status.StatusCode), Is.EqualTo(new[] { global::Grpc.Core.StatusCode.OK, global::Grpc.Core.StatusCode.Unavailable }));
        Assert.That(
            published.Select(r => r.Attributes.TryGetValue(ServiceIdentity.AttributeKey, out var identity) ? identity : null),
            Is.EqualTo(new[] { new ServiceIdentity("identity-svc", "team-a"), new ServiceIdentity("identity-svc", "team-a") }));
    }

    [Test]
    public void ApplierMessages_CarryTheServiceScope()
    {
        var scheduler = new TestScheduler();
        var logs = new CapturingLoggerFactory();
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { LoggerFactory = logs }, scheduler);
        var slices = new Subject<SliceEvent>();
        var config = new DiscoveryConfig("scoped-svc", "grpc") { Namespace = "team-b", Scheduler = scheduler, Debounce = TimeSpan.Zero };
        using var subscription = slices.ToEndpointChanges(config).Filter(_ => true).ApplyTo(channel, _ => throw new InvalidOperationException("bad build"));

        slices.OnNext(SliceEvent.Reset([Core.Slices.Ready("a", "10.0.0.1")]));

        var entry = logs.ScopedEntries.Single(e => e.EventId.Id == 501);
        Assert.That(entry.Scopes.Select(s => s.ToString()), Does.Contain("Service team-b/scoped-svc"));
    }
}
