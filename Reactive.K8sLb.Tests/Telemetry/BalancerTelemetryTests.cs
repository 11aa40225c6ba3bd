using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Internal.Telemetry.BalancerInstruments;

namespace Reactive.K8sLb.Tests.Telemetry;

/// <summary>
/// The balancer's per-endpoint instruments with real subchannels (gRPC servers on 127.0.0.x): the balancer under test
/// sits behind a decorator that adds a <see cref="ServiceIdentity"/> to every channel state, as this library's resolver
/// does. Each test uses a Service name of its own (the meter is process-wide).
/// </summary>
public sealed class BalancerTelemetryTests
{
    private const string Ns = "telemetry";

    [Test]
    public async Task Calls_PicksPerEndpointEqualTheCallsEachPodServed_AndEveryCallCompletesOk()
    {
        using var recorder = new InstrumentRecorder();
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(Unique("picks"));
        world.Insert(pods, "pod-1", "pod-2");
        await world.ReadyPickerWith(2);

        for (var i = 0; i < 20; i++) await world.Client.SayHelloAsync(new HelloRequest { Name = "x" });

        foreach (var name in pods.Names)
        {
            var endpoint = Tags(pods, name);
            Assert.That(pods.HitsOf(name), Is.GreaterThan(0), $"precondition: {name} served calls");
            Assert.That(recorder.Sum("k8slb.endpoint.picks", world.Service, endpoint), Is.EqualTo(pods.HitsOf(name)), $"picks of {name}");
            Assert.That(recorder.Sum("k8slb.endpoint.calls", world.Service, [.. endpoint, (StatusCodeTag, 0)]), Is.EqualTo(pods.HitsOf(name)), $"OK calls of {name}");
        }

        Assert.That(recorder.Sum("k8slb.endpoint.picks", world.Service), Is.EqualTo(20));
        Assert.That(recorder.ForService("k8slb.endpoint.calls", world.Service).Select(m => m.Tag(StatusCodeTag)).Distinct(), Is.EqualTo(new object[] { 0 }));
        Assert.That(recorder.ForService("k8slb.endpoint.picks", world.Service).Select(m => m.Tag(K8sLbTelemetry.NamespaceTag)).Distinct(), Is.EqualTo(new object[] { Ns }));
    }

    [Test]
    public async Task SubchannelConnectsThenIsRemoved_RecordsEachStateAndTheA94Counters()
    {
        using var recorder = new InstrumentRecorder();
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(Unique("states"));
        world.Insert(pods, "pod-1", "pod-2");
        await world.ReadyPickerWith(2);
        var pod1 = Tags(pods, "pod-1");

        Assert.That(StateChanges(recorder, world, pod1), Is.EqualTo(new[] { "connecting", "ready" }));
        Assert.That(recorder.Sum("grpc.subchannel.connection_attempts_succeeded", world.Service, pod1), Is.EqualTo(1));
        Assert.That(recorder.Sum("grpc.subchannel.connection_attempts_failed", world.Service, pod1), Is.Zero);
        Assert.That(recorder.Gauge("grpc.subchannel.open_connections", world.Service, pod1), Is.EqualTo(1));

        world.Remove(pods, "pod-1");
        await Eventually.That(() => StateChanges(recorder, world, pod1).Contains("shutdown"), "pod-1's subchannel shuts down");

        Assert.That(StateChanges(recorder, world, pod1), Is.EqualTo(new[] { "connecting", "ready", "shutdown" }));
        Assert.That(recorder.Sum("grpc.subchannel.disconnections", world.Service, [.. pod1, (DisconnectErrorTag, "subchannel shutdown")]), Is.EqualTo(1));
        Assert.That(recorder.Observe("grpc.subchannel.open_connections", world.Service).Where(m => m.Matches(pod1)), Is.Empty, "a removed endpoint leaves the gauge");
        Assert.That(recorder.Gauge("grpc.subchannel.open_connections", world.Service, Tags(pods, "pod-2")), Is.EqualTo(1));
    }

    [Test]
    public async Task NothingListensAtTheAddress_CountsAFailedConnectionAttempt()
    {
        using var recorder = new InstrumentRecorder();
        await using var world = World.Create(Unique("refused"));
        var nowhere = new IPEndPoint(IPAddress.Loopback, LoopbackGrpcPod.FreePort(IPAddress.Loopback));
        (string, object?)[] tags = [(PeerAddressTag, "127.0.0.1"), (PeerPortTag, nowhere.Port)];

        world.Channel.Updates.OnNext(Change.Insert(BalancerAddresses.Default(nowhere)));

        await Eventually.That(() => recorder.Sum("grpc.subchannel.connection_attempts_failed", world.Service, tags) >= 1, "a failed connection attempt");
        Assert.That(StateChanges(recorder, world, tags).Take(2), Is.EqualTo(new[] { "connecting", "transient_failure" }));
        Assert.That(recorder.Sum("grpc.subchannel.connection_attempts_succeeded", world.Service, tags), Is.Zero);
        Assert.That(recorder.Sum("grpc.subchannel.disconnections", world.Service, tags), Is.Zero, "never connected, never disconnected");
    }

    [Test]
    public async Task NoServiceIdentity_TagsTheServiceAsEmpty()
    {
        using var recorder = new InstrumentRecorder();
        await using var pods = await GreeterPods.StartAsync(1);
        await using var world = World.Create(service: null);
        world.Insert(pods, "pod-1");
        await world.ReadyPickerWith(1);

        await world.Client.SayHelloAsync(new HelloRequest { Name = "x" });

        var picks = recorder.ForService("k8slb.endpoint.picks", string.Empty).Where(m => m.Matches(Tags(pods, "pod-1"))).ToList();
        Assert.That(picks.Sum(m => m.Value), Is.EqualTo(1));
        Assert.That(picks[0].Tag(K8sLbTelemetry.NamespaceTag), Is.EqualTo(string.Empty));
    }

    [Test]
    public async Task BalancerLogs_CarryTheServiceScope_WithTheirEventIds()
    {
        var logs = new CapturingLoggerFactory();
        await using var pods = await GreeterPods.StartAsync(1);
        await using var world = World.Create(Unique("logs"), logs);
        world.Insert(pods, "pod-1");
        await world.ReadyPickerWith(1);

        var updated = logs.ScopedEntries.Where(e => e.EventId.Id == 401).ToList();

        Assert.That(updated, Is.Not.Empty);
        Assert.That(updated.Select(e => e.Scopes.OfType<ServiceLogScope>().Single().ToString()).Distinct(), Is.EqualTo(new[] { $"Service {Ns}/{world.Service}" }));
    }

    [Test]
    public void StatusOf_ResolvesTrackerErrorsLikeGrpcDotnet()
    {
        Assert.Multiple(() =>
        {
            Assert.That(StatusOf(null), Is.EqualTo(StatusCode.OK));
            Assert.That(StatusOf(new RpcException(new Status(StatusCode.NotFound, "x"))), Is.EqualTo(StatusCode.NotFound));
            Assert.That(StatusOf(new TaskCanceledException()), Is.EqualTo(StatusCode.Cancelled));
            Assert.That(StatusOf(new HttpRequestException("x", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))), Is.EqualTo(StatusCode.Unavailable));
            Assert.That(StatusOf(new HttpRequestException("x", new HttpProtocolException(0x7, "refused", null))), Is.EqualTo(StatusCode.Unavailable));
            Assert.That(StatusOf(new HttpRequestException("x", new HttpProtocolException(0x2, "internal", null))), Is.EqualTo(StatusCode.Internal));
            Assert.That(StatusOf(new InvalidOperationException("x")), Is.EqualTo(StatusCode.Internal));
        });
    }

    private static string Unique(string what) => $"lb-{what}-{Guid.NewGuid():N}"[..24];

    private static (string Key, object? Value)[] Tags(GreeterPods pods, string name) =>
        [(PeerAddressTag, pods.EndPoint(name).Address.ToString()), (PeerPortTag, pods.Port)];

    private static string[] StateChanges(InstrumentRecorder recorder, World world, (string Key, object? Value)[] endpoint) =>
        [.. recorder.ForService("k8slb.subchannel.state_changes", world.Service).Where(m => m.Matches(endpoint)).Select(m => (string)m.Tag(SubchannelStateTag)!)];

    /// <summary>A balanced channel whose policy is the balancer under test, fed channel states that name a Service.</summary>
    private sealed class World : IAsyncDisposable
    {
        private static readonly ConstructorInfo ChannelStateConstructor =
            typeof(ChannelState).GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic).Single();

        private readonly ConcurrentQueue<BalancerState> _states = new();

        private World(ServiceIdentity? identity, CapturingLoggerFactory? logs)
        {
            Identity = identity;
            var services = new ServiceCollection();
            services.AddSingleton<LoadBalancerFactory>(new Factory(this));
            Provider = services.BuildServiceProvider();
            Channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceProvider = Provider, LoggerFactory = logs }, TaskPoolScheduler.Default);
            Client = new Greeter.GreeterClient(Channel);
        }

        public ServiceIdentity? Identity { get; }

        public string Service => Identity?.Service ?? string.Empty;

        public ServiceProvider Provider { get; }

        public BalancedChannel Channel { get; }

        public Greeter.GreeterClient Client { get; }

        public static World Create(string? service, CapturingLoggerFactory? logs = null)
        {
            var world = new World(service is null ? null : new ServiceIdentity(service, Ns), logs);
            _ = world.Channel.Channel.ConnectAsync(); // starts the resolver and the balancer
            return world;
        }

        public void Insert(GreeterPods pods, params string[] names)
        {
            foreach (var name in names) Channel.Updates.OnNext(Change.Insert(BalancerAddresses.Default(pods.EndPoint(name))));
        }

        public void Remove(GreeterPods pods, params string[] names)
        {
            foreach (var name in names) Channel.Updates.OnNext(Change.Remove(BalancerAddresses.Default(pods.EndPoint(name))));
        }

        public Task ReadyPickerWith(int count) => Eventually.That(
            () => _states.LastOrDefault() is { ConnectivityState: ConnectivityState.Ready, Picker: RoundRobinPicker p } && p.Subchannels.Count == count,
            $"a ready picker over {count} subchannels");

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await Provider.DisposeAsync();
        }

        private ChannelState Named(ChannelState state)
        {
            if (Identity is null) return state;
            var attributes = new BalancerAttributes();
            foreach (var (key, value) in state.Attributes) ((IDictionary<string, object?>)attributes)[key] = value;
            attributes.Set(ServiceIdentity.AttributeKey, Identity);
            return (ChannelState)ChannelStateConstructor.Invoke([state.Status, state.Addresses, state.LoadBalancingConfig, attributes]);
        }

        private sealed class Factory(World world) : LoadBalancerFactory
        {
            public override string Name => NewestFirstRoundRobinBalancerFactory.PolicyName;

            public override LoadBalancer Create(LoadBalancerOptions options) =>
                new Naming(world, new NewestFirstRoundRobinBalancer(new RecordingController(options.Controller, world._states), options.LoggerFactory, random: _ => 0));
        }

        /// <summary>Adds the Service identity to every channel state, as the library's resolver does.</summary>
        private sealed class Naming(World world, LoadBalancer inner) : LoadBalancer
        {
            public override void UpdateChannelState(ChannelState state) => inner.UpdateChannelState(world.Named(state));

            public override void RequestConnection() => inner.RequestConnection();

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
