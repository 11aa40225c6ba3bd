using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.LoadAware;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.LoadAware;

/// <summary>
/// The load-aware picker over real subchannels (gRPC pods on loopback), with injected randomness (the draws) and a
/// virtual clock (latencies): calls are simulated through the picks' call trackers, as grpc-dotnet drives them.
/// </summary>
public sealed class LoadAwarePickerTests
{
    private static readonly PickingPolicy LeastRequest = new(LoadMeasure.OutstandingCalls, 2, 0, TimeSpan.TicksPerSecond);
    private static readonly PickingPolicy PeakEwma = new(LoadMeasure.PeakEwma, 2, TimeSpan.FromMilliseconds(30).Ticks, TimeSpan.FromSeconds(10).Ticks);

    [Test]
    public async Task LeastRequest_SendsTheCallToTheDrawWithFewerCallsInFlight()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(LeastRequest);
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);
        var busy = Endpoint(picker, pods, "pod-1");
        for (var i = 0; i < 3; i++) busy.Pick().SubchannelCallTracker!.Start();

        world.Draws(0, 1, 1, 0); // both orders of the two draws
        var first = picker.Pick(new PickContext());
        var second = picker.Pick(new PickContext());

        Assert.That(first.Subchannel, Is.SameAs(Endpoint(picker, pods, "pod-2").Subchannel));
        Assert.That(second.Subchannel, Is.SameAs(Endpoint(picker, pods, "pod-2").Subchannel));
    }

    [Test]
    public async Task LeastRequest_Tie_TakesTheFirstDraw()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(LeastRequest);
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);

        world.Draws(1, 0);

        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(picker.Endpoints[1].Subchannel), "A48: on a tie, the first endpoint drawn");
    }

    [Test]
    public async Task PeakEwma_AvoidsTheEndpointThatAnsweredSlowly()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(PeakEwma);
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);
        world.Call(Endpoint(picker, pods, "pod-1"), TimeSpan.FromMilliseconds(50));
        world.Call(Endpoint(picker, pods, "pod-2"), TimeSpan.FromMilliseconds(1));

        world.Draws(0, 1, 1, 0);

        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(Endpoint(picker, pods, "pod-2").Subchannel));
        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(Endpoint(picker, pods, "pod-2").Subchannel));
        Assert.That(Endpoint(picker, pods, "pod-1").LatencyEstimate(), Is.EqualTo(0.050).Within(0.001), "the peak replaced the 30 ms default");
    }

    [Test]
    public async Task PeakEwma_SlowEndpoint_IsTriedAgainOnceItsEstimateHasDecayed()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(PeakEwma);
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);
        world.Call(Endpoint(picker, pods, "pod-1"), TimeSpan.FromMilliseconds(50));
        world.Call(Endpoint(picker, pods, "pod-2"), TimeSpan.FromMilliseconds(1));

        // 60 s later (six time constants) the slow pod's 50 ms estimate is ~0.12 ms, below the fast pod's decayed one
        // only if the fast pod was measured later: measure it again now, at 1 ms.
        world.Clock.AdvanceBy(TimeSpan.FromSeconds(60).Ticks);
        world.Call(Endpoint(picker, pods, "pod-2"), TimeSpan.FromMilliseconds(1));
        world.Draws(0, 1);

        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(Endpoint(picker, pods, "pod-1").Subchannel));
    }

    [Test]
    public async Task ExcludedDraw_IsSkipped()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(LeastRequest);
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);
        var busy = Endpoint(picker, pods, "pod-1");
        for (var i = 0; i < 3; i++) busy.Pick().SubchannelCallTracker!.Start();
        Endpoint(picker, pods, "pod-2").Health.Exclude(ExclusionReasons.Ejected);

        world.Draws(0, 1);

        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(busy.Subchannel), "the idle pod is ejected");
    }

    [Test]
    public async Task EveryDrawExcluded_TheCheapestUsableEndpointIsPicked()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = World.Create(LeastRequest);
        world.Insert(pods, "pod-1", "pod-2", "pod-3");
        var picker = await world.ReadyPickerWith(3);
        Endpoint(picker, pods, "pod-1").Health.Exclude(ExclusionReasons.Ejected);

        world.Draws(Index(picker, pods, "pod-1"), Index(picker, pods, "pod-1"));

        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.Not.SameAs(Endpoint(picker, pods, "pod-1").Subchannel));
    }

    [Test]
    public async Task Pick_ReusesTheTrackerOfACompletedCall_NoAllocationPerCallOnceWarm()
    {
        await using var pods = await GreeterPods.StartAsync(1);
        await using var world = World.Create(LeastRequest);
        world.Insert(pods, "pod-1");
        var picker = await world.ReadyPickerWith(1);
        var endpoint = picker.Endpoints[0];

        var first = endpoint.Pick();
        first.SubchannelCallTracker!.Start();
        first.SubchannelCallTracker.Complete(new CompletionContext { Address = new BalancerAddress("127.0.0.2", pods.Port) });
        var second = endpoint.Pick();

        Assert.That(second, Is.SameAs(first));
        Assert.That(endpoint.Load!.Outstanding, Is.Zero);
    }

    [Test]
    public async Task SlowStart_LoadAware_NewEndpointStaysInADrawWithTheProbabilityOfItsWeight()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        var slowStart = new SlowStartPolicy(TimeSpan.FromSeconds(10).Ticks, 1.0, 0.1);
        await using var world = World.Create(LeastRequest, slowStart);
        world.Insert(pods, "pod-1");
        await world.ReadyPickerWith(1);
        world.Insert(pods, "pod-2");
        var picker = await world.ReadyPickerWith(2);
        var established = Endpoint(picker, pods, "pod-1");
        var fresh = Endpoint(picker, pods, "pod-2");
        established.Pick().SubchannelCallTracker!.Start(); // 1 call in flight: the new pod is cheaper when it stays in

        // Weight 0.1 in its first moment: a draw of 0.2 (x 1,000,000) leaves it out, one of 0.05 keeps it in.
        world.Draws(Index(picker, pods, "pod-2"), 200_000, Index(picker, pods, "pod-1"));
        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(established.Subchannel), "left out of the draw");
        world.Draws(Index(picker, pods, "pod-2"), 50_000, Index(picker, pods, "pod-1"));
        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(fresh.Subchannel), "kept in, and cheaper");

        world.Clock.AdvanceBy(TimeSpan.FromSeconds(10).Ticks);
        world.Draws(Index(picker, pods, "pod-2"), Index(picker, pods, "pod-1"));
        Assert.That(picker.Pick(new PickContext()).Subchannel, Is.SameAs(fresh.Subchannel), "after the window no draw is spent on it");
    }

    [Test]
    public async Task SlowStart_RoundRobin_NewEndpointLetsItsTurnPassWithTheProbabilityOfItsWeight()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        var slowStart = new SlowStartPolicy(TimeSpan.FromSeconds(10).Ticks, 1.0, 0.1);
        await using var world = World.Create(picking: null, slowStart);
        world.Insert(pods, "pod-1");
        await world.ReadyRoundRobinPickerWith(1);
        world.Insert(pods, "pod-2");
        var picker = await world.ReadyRoundRobinPickerWith(2);
        var fresh = picker.Endpoints.Single(e => e.Subchannel.CurrentAddress?.EndPoint.Host == pods.EndPoint("pod-2").Address.ToString());

        // Weight 0.1 in its first moment: a draw of 0.2 (x 1,000,000) lets the turn pass, one of 0.05 takes it.
        world.Draws(200_000, 200_000, 200_000, 200_000);
        var passing = Enumerable.Range(0, 4).Select(_ => picker.Pick(new PickContext()).Subchannel).ToList();
        world.Draws(50_000, 50_000, 50_000, 50_000);
        var taking = Enumerable.Range(0, 4).Select(_ => picker.Pick(new PickContext()).Subchannel).ToList();

        Assert.That(passing, Has.None.SameAs(fresh.Subchannel), "every turn of the new pod passed to the established one");
        Assert.That(taking.Count(s => ReferenceEquals(s, fresh.Subchannel)), Is.EqualTo(2), "round robin again: every other call");
    }

    [Test]
    public async Task SlowStart_IsOff_NewestFirstStillSendsTheNewPodTheNextCall()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create(picking: null);
        world.Insert(pods, "pod-1");
        await world.ReadyRoundRobinPickerWith(1);
        world.Insert(pods, "pod-2");
        var picker = await world.ReadyRoundRobinPickerWith(2);

        Assert.That(picker.Pick(new PickContext()).Subchannel!.CurrentAddress?.EndPoint.Host, Is.EqualTo(pods.EndPoint("pod-2").Address.ToString()));
    }

    [Test]
    public async Task SlowStart_EndpointsOfTheFirstAddressList_StartAtFullWeight()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        var slowStart = new SlowStartPolicy(TimeSpan.FromSeconds(30).Ticks, 1.0, 0.1);
        await using var world = World.Create(LeastRequest, slowStart, connect: false);
        world.Insert(pods, "pod-1", "pod-2", "pod-3"); // before the channel starts: its first address list holds all three
        world.Connect();
        var picker = await world.ReadyPickerWith(3);

        TestContext.Out.WriteLine($"address lists seen: {string.Join(",", world.Lists)}");
        Assert.That(world.Lists.First(n => n >= 0), Is.EqualTo(3), "precondition: the first address list holds all three");
        TestContext.Out.WriteLine($"ReadySince: {string.Join(",", picker.Endpoints.Select(e => e.ReadySince))}");
        Assert.That(picker.Endpoints.Select(e => e.ReadySince), Is.All.EqualTo(BalancerInstruments.Endpoint.FullWeight),
            "SlowStartOptions docs: the endpoints of the first address list start at full weight");
    }

    private static int Index(LoadAwarePicker picker, GreeterPods pods, string name) =>
        picker.Endpoints.ToList().FindIndex(e => e.Subchannel.CurrentAddress?.EndPoint.Host == pods.EndPoint(name).Address.ToString());

    private static BalancerInstruments.Endpoint Endpoint(LoadAwarePicker picker, GreeterPods pods, string name) => picker.Endpoints[Index(picker, pods, name)];

    private sealed class World : IAsyncDisposable
    {
        private readonly ConcurrentQueue<BalancerState> _states = new();
        private readonly ConcurrentQueue<int> _draws = new();

        private World(PickingPolicy? picking, SlowStartPolicy? slowStart)
        {
            var services = new ServiceCollection();
            services.AddSingleton<LoadBalancerFactory>(new Factory(this, picking, slowStart));
            Provider = services.BuildServiceProvider();
            Channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceProvider = Provider }, TaskPoolScheduler.Default);
        }

        public TestScheduler Clock { get; } = new();

        public ConcurrentQueue<int> ListQueue { get; } = new();

        public List<int> Lists => [.. ListQueue];

        public ServiceProvider Provider { get; }

        public BalancedChannel Channel { get; }

        public static World Create(PickingPolicy? picking, SlowStartPolicy? slowStart = null, bool connect = true)
        {
            var world = new World(picking, slowStart);
            if (connect) world.Connect();
            return world;
        }

        /// <summary>Starts the channel (its resolver and balancer).</summary>
        public void Connect() => _ = Channel.Channel.ConnectAsync();

        /// <summary>The next random draws (indexes); after them, index 0.</summary>
        public void Draws(params int[] indexes)
        {
            _draws.Clear();
            foreach (var index in indexes) _draws.Enqueue(index);
        }

        /// <summary>One call on the endpoint that takes <paramref name="latency"/> of virtual time.</summary>
        public void Call(BalancerInstruments.Endpoint endpoint, TimeSpan latency)
        {
            var tracker = endpoint.Pick().SubchannelCallTracker!;
            tracker.Start();
            Clock.AdvanceBy(latency.Ticks);
            tracker.Complete(new CompletionContext { Address = new BalancerAddress("127.0.0.2", 1) });
        }

        public void Insert(GreeterPods pods, params string[] names)
        {
            foreach (var name in names) Channel.Updates.OnNext(Change.Insert(BalancerAddresses.Default(pods.EndPoint(name))));
        }

        public async Task<LoadAwarePicker> ReadyPickerWith(int count)
        {
            LoadAwarePicker? found = null;
            await Eventually.That(
                () => (found = _states.LastOrDefault() is { ConnectivityState: ConnectivityState.Ready, Picker: LoadAwarePicker p } && p.Subchannels.Count == count ? p : null) is not null,
                $"a ready load-aware picker over {count} subchannels");
            return found!;
        }

        public async Task<RoundRobinPicker> ReadyRoundRobinPickerWith(int count)
        {
            RoundRobinPicker? found = null;
            await Eventually.That(
                () => (found = _states.LastOrDefault() is { ConnectivityState: ConnectivityState.Ready, Picker: RoundRobinPicker p } && p.Subchannels.Count == count ? p : null) is not null,
                $"a ready round-robin picker over {count} subchannels");
            return found!;
        }

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await Provider.DisposeAsync();
        }

        private int Draw(int below) => _draws.TryDequeue(out var index) ? index % below : 0;

        private sealed class Factory(World world, PickingPolicy? picking, SlowStartPolicy? slowStart) : LoadBalancerFactory
        {
            public override string Name => NewestFirstRoundRobinBalancerFactory.PolicyName;

            public override LoadBalancer Create(LoadBalancerOptions options) =>
                new Recording(world, new NewestFirstRoundRobinBalancer(new RecordingController(options.Controller, world._states), options.LoggerFactory, OutlierPolicy.Default, clock: world.Clock, random: world.Draw, picking: picking, slowStart: slowStart));
        }

        private sealed class Recording(World world, LoadBalancer inner) : LoadBalancer
        {
            public override void UpdateChannelState(ChannelState state)
            {
                world.ListQueue.Enqueue(state.Addresses?.Count ?? -1);
                inner.UpdateChannelState(state);
            }

            public override void RequestConnection() => inner.RequestConnection();

            protected override void Dispose(bool disposing)
            {
                if (disposing) inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
