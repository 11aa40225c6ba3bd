using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Ejection;

/// <summary>
/// The picker with excluded endpoints, over real subchannels (gRPC pods on loopback): an excluded endpoint is skipped
/// at once without a new picker, the others keep even shares, and when every endpoint is excluded all are picked.
/// </summary>
public sealed class EjectionPickerTests
{
    [Test]
    public async Task ExcludedEndpoint_IsSkipped_TheOthersShareEvenly()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2", "pod-3");
        var picker = await world.ReadyPickerWith(3);

        Endpoint(picker, pods, "pod-2").Health.Exclude(ExclusionReasons.Ejected);
        var picks = Picks(picker, 30);

        Assert.That(picks.GetValueOrDefault(Host(pods, "pod-2")), Is.Zero);
        Assert.That(picks[Host(pods, "pod-1")], Is.EqualTo(15));
        Assert.That(picks[Host(pods, "pod-3")], Is.EqualTo(15));
    }

    [Test]
    public async Task ReadmittedEndpoint_RejoinsTheSamePicker()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);
        var endpoint = Endpoint(picker, pods, "pod-2");
        endpoint.Health.Exclude(ExclusionReasons.Ejected);
        Picks(picker, 4);

        endpoint.Health.Include(ExclusionReasons.Ejected);
        var picks = Picks(picker, 10);

        Assert.That(picks[Host(pods, "pod-2")], Is.EqualTo(5));
        Assert.That(world.Latest!.Picker, Is.SameAs(picker), "no new picker was needed");
    }

    [Test]
    public async Task EveryEndpointExcluded_AllArePickedRatherThanNone()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);
        foreach (var endpoint in picker.Endpoints) endpoint.Health.Exclude(ExclusionReasons.Ejected);

        var picks = Picks(picker, 10);

        Assert.That(picks.Values, Is.EqualTo(new[] { 5, 5 }));
    }

    [Test]
    public async Task NewPodThatIsExcluded_LosesItsFirstPick()
    {
        // Newest first: the picker made when pod-3 joins starts at pod-3; excluded, it is skipped.
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2");
        await world.ReadyPickerWith(2);
        world.Insert(pods, "pod-3");
        var picker = await world.ReadyPickerWith(3);

        Endpoint(picker, pods, "pod-3").Health.Exclude(ExclusionReasons.Ejected);

        Assert.That(Picks(picker, 1).Keys, Is.Not.EqualTo(new[] { Host(pods, "pod-3") }));
    }

    [Test]
    public async Task Balancer_WithOutlierDetection_PutsEveryEndpointUnderIt()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2");
        var picker = await world.ReadyPickerWith(2);

        Assert.That(picker.Endpoints.Select(e => e.Health.IsCounting), Is.EqualTo(new[] { true, true }));
        Assert.That(picker.Pick(new PickContext()).SubchannelCallTracker, Is.Not.Null, "a call nobody watches gets the transport-level tracker");
    }

    [Test]
    public async Task CallNobodyWatches_ItsTrackerCountsTransportErrorsOnly()
    {
        // grpc-dotnet completes the tracker when the response headers arrive or with the transport error. An answer is
        // not a success as far as the tracker can tell (its status is in the trailers: a pod answering Unavailable
        // would look healthy and reset its streak); a cancellation (the caller's or the deadline's) is not counted.
        await using var pods = await GreeterPods.StartAsync(1);
        await using var world = World.Create();
        world.Insert(pods, "pod-1");
        var picker = await world.ReadyPickerWith(1);
        var tracker = picker.Pick(new PickContext()).SubchannelCallTracker!;
        var address = new BalancerAddress("127.0.0.2", pods.Port);

        tracker.Complete(new CompletionContext { Address = address });
        tracker.Complete(new CompletionContext { Address = address, Error = new HttpRequestException("reset", new IOException("connection reset")) });
        tracker.Complete(new CompletionContext { Address = address, Error = new OperationCanceledException() });

        Assert.That(picker.Endpoints[0].Health.TakeInterval(), Is.EqualTo((0L, 1L)));
    }

    [Test]
    public async Task TrackerStart_ClaimsTheCallForTheLastPickStarted_NotTheFirstPicked()
    {
        // grpc-dotnet picks again when the first pick's subchannel cannot take the call, and starts only the pick it
        // uses: the outcome belongs to the endpoint whose tracker was started.
        await using var pods = await GreeterPods.StartAsync(2);
        await using var world = World.Create();
        world.Insert(pods, "pod-1");
        world.Insert(pods, "pod-2");
        var picker = await world.ReadyPickerWith(2);

        var window = CallCapture.Begin();
        var first = picker.Pick(new PickContext()).SubchannelCallTracker!;
        var second = picker.Pick(new PickContext()).SubchannelCallTracker!;
        second.Start();
        var claimed = CallCapture.End(window);

        Assert.That(first, Is.Not.SameAs(second));
        Assert.That(claimed, Is.SameAs(picker.Endpoints.Single(e => ReferenceEquals(e.OutcomeTracked.SubchannelCallTracker, second)).Health));
    }

    [Test]
    public void NestedWindow_RestoresTheOuterClaim()
    {
        var outerEndpoint = new EndpointHealth("outer", detector: null);
        var window = CallCapture.Begin();
        CallCapture.TryClaim(outerEndpoint);

        var inner = CallCapture.Begin();
        var innerClaim = CallCapture.End(inner);

        Assert.That(innerClaim, Is.Null);
        Assert.That(CallCapture.End(window), Is.SameAs(outerEndpoint));
    }

    private static string Host(GreeterPods pods, string name) => pods.EndPoint(name).Address.ToString();

    private static Internal.Telemetry.BalancerInstruments.Endpoint Endpoint(RoundRobinPicker picker, GreeterPods pods, string name) =>
        picker.Endpoints.Single(e => e.Subchannel.CurrentAddress!.EndPoint.Host == Host(pods, name));

    private static Dictionary<string, int> Picks(RoundRobinPicker picker, int count)
    {
        var picks = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            var host = picker.Pick(new PickContext()).Subchannel!.CurrentAddress!.EndPoint.Host;
            picks[host] = picks.GetValueOrDefault(host) + 1;
        }

        return picks;
    }

    private sealed class World : IAsyncDisposable
    {
        private readonly ConcurrentQueue<BalancerState> _states = new();

        private World()
        {
            var services = new ServiceCollection();
            services.AddSingleton<LoadBalancerFactory>(new Factory(this));
            Provider = services.BuildServiceProvider();
            Channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceProvider = Provider }, TaskPoolScheduler.Default);
        }

        public ServiceProvider Provider { get; }

        public BalancedChannel Channel { get; }

        public BalancerState? Latest => _states.LastOrDefault();

        public static World Create()
        {
            var world = new World();
            _ = world.Channel.Channel.ConnectAsync(); // starts the resolver and the balancer
            return world;
        }

        public void Insert(GreeterPods pods, params string[] names)
        {
            foreach (var name in names) Channel.Updates.OnNext(Change.Insert(BalancerAddresses.Default(pods.EndPoint(name))));
        }

        public async Task<RoundRobinPicker> ReadyPickerWith(int count)
        {
            RoundRobinPicker? found = null;
            await Eventually.That(
                () => (found = Latest is { ConnectivityState: ConnectivityState.Ready, Picker: RoundRobinPicker p } && p.Subchannels.Count == count ? p : null) is not null,
                $"a ready picker over {count} subchannels");
            return found!;
        }

        public async ValueTask DisposeAsync()
        {
            Channel.Dispose();
            await Provider.DisposeAsync();
        }

        private sealed class Factory(World world) : LoadBalancerFactory
        {
            public override string Name => NewestFirstRoundRobinBalancerFactory.PolicyName;

            public override LoadBalancer Create(LoadBalancerOptions options) =>
                new NewestFirstRoundRobinBalancer(new RecordingController(options.Controller, world._states), options.LoggerFactory, OutlierPolicy.Default, random: _ => 0);
        }
    }
}
