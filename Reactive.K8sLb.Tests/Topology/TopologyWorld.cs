using System.Collections.Concurrent;
using System.Net;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Internal.Topology;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Topology;

/// <summary>What an EndpointSlice says about a pod, for <see cref="TopologyWorld"/>.</summary>
internal sealed record Meta(string? Zone = null, string[]? ZoneHints = null, string[]? NodeHints = null, bool Ready = true, string? PodName = null);

/// <summary>
/// A balanced channel whose policy is <see cref="NewestFirstRoundRobinBalancer"/> with a given topology, fed addresses
/// that carry <see cref="KubernetesEndpoint"/> metadata (as discovery builds them), over real gRPC pods on loopback.
/// Records the balancer's states and the subchannels it creates.
/// </summary>
internal sealed class TopologyWorld : IAsyncDisposable
{
    private readonly ConcurrentQueue<BalancerState> _states = new();
    private readonly ConcurrentQueue<Subchannel> _created = new();
    private readonly TopologyPolicy _topology;
    private readonly Func<int, int> _random;
    private readonly ServiceIdentity? _identity;

    private TopologyWorld(TopologyPolicy topology, Func<int, int> random, CapturingLoggerFactory? logs, string? service)
    {
        _topology = topology;
        _random = random;
        _identity = service is null ? null : new ServiceIdentity(service, "topology");
        var services = new ServiceCollection();
        services.AddSingleton<LoadBalancerFactory>(new Factory(this));
        Provider = services.BuildServiceProvider();
        Channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceProvider = Provider, LoggerFactory = logs }, TaskPoolScheduler.Default);
    }

    public ServiceProvider Provider { get; }

    public BalancedChannel Channel { get; }

    public BalancerState? Latest => _states.LastOrDefault();

    /// <summary>Subchannels the balancer created so far.</summary>
    public IReadOnlyList<Subchannel> Created => [.. _created];

    /// <summary>Starts the channel (resolver and balancer). <paramref name="random"/> defaults to always 0.</summary>
    public static TopologyWorld Create(TopologyPolicy topology, Func<int, int>? random = null, CapturingLoggerFactory? logs = null, string? service = null)
    {
        var world = new TopologyWorld(topology, random ?? (_ => 0), logs, service);
        _ = world.Channel.Channel.ConnectAsync();
        return world;
    }

    /// <summary>A random source cycling through <c>0, max/k, 2·max/k, ...</c> for the picker's share draw (argument
    /// <see cref="RoundRobinPicker.Million"/>), 0 for anything else: exactly one draw in k is below <c>max/k</c>.</summary>
    public static Func<int, int> Cycle(int k)
    {
        var step = -1L;
        return max => max == RoundRobinPicker.Million ? (int)(Interlocked.Increment(ref step) % k * (max / k)) : 0;
    }

    public BalancerAddress Address(IPEndPoint endPoint, Meta meta)
    {
        var address = BalancerAddresses.Default(endPoint);
        address.Attributes.Set(KubernetesEndpoint.AttributeKey, new KubernetesEndpoint(endPoint)
        {
            Zone = meta.Zone,
            ZoneHints = meta.ZoneHints ?? [],
            NodeHints = meta.NodeHints ?? [],
            Ready = meta.Ready,
            PodName = meta.PodName,
        });
        if (_identity is not null) address.Attributes.Set(ServiceIdentity.AttributeKey, _identity);
        return address;
    }

    public void Insert(GreeterPods pods, params (string Name, Meta Meta)[] endpoints)
    {
        foreach (var (name, meta) in endpoints) Channel.Updates.OnNext(Change.Insert(Address(pods.EndPoint(name), meta)));
    }

    public void Insert(IPEndPoint endPoint, Meta meta) => Channel.Updates.OnNext(Change.Insert(Address(endPoint, meta)));

    /// <summary>New metadata for an endpoint already in the set (a <see cref="ChangeKind.Update"/>).</summary>
    public void Update(GreeterPods pods, string name, Meta meta) => Channel.Updates.OnNext(Change.Update(Address(pods.EndPoint(name), meta)));

    public async Task<RoundRobinPicker> ReadyPicker(Func<RoundRobinPicker, bool> condition, string what)
    {
        RoundRobinPicker? found = null;
        await Eventually.That(
            () => (found = Latest is { ConnectivityState: ConnectivityState.Ready, Picker: RoundRobinPicker p } && condition(p) ? p : null) is not null,
            what);
        return found!;
    }

    public Task<RoundRobinPicker> ReadyPickerWith(int count, int local) => ReadyPicker(
        p => p.Subchannels.Count == count && p.LocalEndpoints.Count == local,
        $"a ready picker over {count} subchannels, {local} local");

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Provider.DisposeAsync();
    }

    public static string Host(GreeterPods pods, string name) => pods.EndPoint(name).Address.ToString();

    public static string HostOf(BalancerInstruments.Endpoint endpoint) => endpoint.Subchannel.CurrentAddress!.EndPoint.Host;

    public static BalancerInstruments.Endpoint Endpoint(RoundRobinPicker picker, GreeterPods pods, string name) =>
        picker.Endpoints.Single(e => HostOf(e) == Host(pods, name));

    /// <summary>Picks <paramref name="count"/> times; the picks per host.</summary>
    public static Dictionary<string, int> Picks(RoundRobinPicker picker, int count)
    {
        var picks = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            var host = picker.Pick(new PickContext()).Subchannel!.CurrentAddress!.EndPoint.Host;
            picks[host] = picks.GetValueOrDefault(host) + 1;
        }

        return picks;
    }

    private sealed class Factory(TopologyWorld world) : LoadBalancerFactory
    {
        public override string Name => NewestFirstRoundRobinBalancerFactory.PolicyName;

        public override LoadBalancer Create(LoadBalancerOptions options) =>
            new NewestFirstRoundRobinBalancer(new RecordingController(options.Controller, world), options.LoggerFactory, outlierPolicy: null, random: world._random, topology: world._topology);
    }

    private sealed class RecordingController(IChannelControlHelper inner, TopologyWorld world) : IChannelControlHelper
    {
        public Subchannel CreateSubchannel(SubchannelOptions options)
        {
            var subchannel = inner.CreateSubchannel(options);
            world._created.Enqueue(subchannel);
            return subchannel;
        }

        public void RefreshResolver() => inner.RefreshResolver();

        public void UpdateState(BalancerState state)
        {
            world._states.Enqueue(state);
            inner.UpdateState(state);
        }
    }
}
