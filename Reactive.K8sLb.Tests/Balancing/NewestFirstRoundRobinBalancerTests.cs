using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>
/// The newest-first policy with real subchannels (real gRPC servers on 127.0.0.x), a recording controller to see each
/// picker it hands the channel, and a fixed "random" choice (always the first candidate).
/// </summary>
public sealed class NewestFirstRoundRobinBalancerTests
{
    [Test]
    public async Task GenuinelyNewPod_TakesTheFirstPickOfTheNextPicker()
    {
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2");
        await world.ReadyPickerWith(2);

        world.Insert(pods, "pod-3");
        var picker = await world.ReadyPickerWith(3);

        Assert.That(FirstPick(picker), Is.EqualTo(Host(pods, "pod-3")));
    }

    [Test]
    public async Task PodReturningAfterAShortAbsence_IsNotPreferred()
    {
        // A readiness flap: the pod leaves the set and comes back. It must rejoin the cycle, not jump the queue (with a
        // fixed "random" start of 0, the cycle starts at pod-1).
        await using var pods = await GreeterPods.StartAsync(3);
        await using var world = World.Create();
        world.Insert(pods, "pod-1", "pod-2", "pod-3");
        await world.ReadyPickerWith(3);

        world.Remove(pods, "pod-3");
        await world.ReadyPickerWith(2);
        world.Insert(pods, "pod-3");
        var picker = await world.ReadyPickerWith(3);

        Assert.That(picker.Subchannels[0].CurrentAddress!.EndPoint.Host, Is.Not.EqualTo(Host(pods, "pod-3")), "precondition: pod-3 is not first in the cycle");
        Assert.That(FirstPick(picker), Is.EqualTo(Host(pods, "pod-1")));
    }

    [Test]
    public async Task EmptySetWhileReady_FailsPicksInsteadOfKeepingTheOldPods()
    {
        await using var pods = await GreeterPods.StartAsync(1);
        await using var world = World.Create();
        world.Insert(pods, "pod-1");
        await world.ReadyPickerWith(1);

        world.Remove(pods, "pod-1");

        await Eventually.That(() => world.Latest is { ConnectivityState: ConnectivityState.TransientFailure }, "the balancer reports the empty set");
        var pick = world.Latest!.Picker.Pick(new PickContext());
        Assert.That(pick.Type, Is.EqualTo(PickResultType.Fail));
        Assert.That(pick.Status.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    private static string Host(GreeterPods pods, string name) => pods.EndPoint(name).Address.ToString();

    private static string FirstPick(RoundRobinPicker picker) => picker.Pick(new PickContext()).Subchannel!.CurrentAddress!.EndPoint.Host;

    /// <summary>A balanced channel whose policy is the balancer under test, behind a recording controller.</summary>
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

        public void Remove(GreeterPods pods, params string[] names)
        {
            foreach (var name in names) Channel.Updates.OnNext(Change.Remove(BalancerAddresses.Default(pods.EndPoint(name))));
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
                new NewestFirstRoundRobinBalancer(new RecordingController(options.Controller, world._states), options.LoggerFactory, random: _ => 0);
        }
    }
}
