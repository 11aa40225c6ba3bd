using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reactive.Linq;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Latency;

/// <summary>One resolver publish as seen by the load balancer: the listener call, timestamped on entry.</summary>
internal sealed record Published(long Timestamp, HashSet<string> Hosts);

/// <summary>
/// Observes "resolver update published": grpc-dotnet's ConnectionManager calls the load balancer's
/// <see cref="LoadBalancer.UpdateChannelState"/> synchronously inside the resolver's listener call, so a load balancer
/// that records the time and then delegates to a round-robin policy sees exactly the listener calls, for any resolver (ours or
/// the DNS-style polling one). With <c>connect: false</c> it never creates subchannels (data-only address sets).
/// </summary>
internal sealed class ProbeBalancerFactory(bool connect, LoadBalancerFactory? inner = null) : LoadBalancerFactory
{
    public const string PolicyName = "probe_rr";

    // The policy under the probe: grpc-dotnet's round_robin unless given (our channels use newest-first round robin).
    private readonly LoadBalancerFactory _inner = inner ?? new RoundRobinBalancerFactory();
    private int _count;

    public override string Name => PolicyName;

    public ConcurrentQueue<Published> Updates { get; } = new();

    public int Count => Volatile.Read(ref _count);

    public event Action<Published>? OnPublished;

    /// <summary>Per host: when round_robin created its subchannel, and when that subchannel first became Ready.</summary>
    public ConcurrentDictionary<string, long> SubchannelCreated { get; } = new();

    public ConcurrentDictionary<string, long> SubchannelReady { get; } = new();

    /// <summary>Per host: the first pick of that host (cleared when its subchannel is created).</summary>
    public ConcurrentDictionary<string, long> FirstPick { get; } = new();

    /// <summary>When the balancer handed the channel a new picker.</summary>
    public ConcurrentQueue<long> PickerUpdates { get; } = new();

    public override LoadBalancer Create(LoadBalancerOptions options)
    {
        if (!connect) return new ProbeBalancer(this, null, options.Controller);
        var helper = new ProbeHelper(this, options.Controller);
        return new ProbeBalancer(this, _inner.Create(new LoadBalancerOptions(helper, options.LoggerFactory, options.Configuration)), helper);
    }

    /// <summary>Records subchannel creation and readiness (connect time) per address.</summary>
    private sealed class ProbeHelper(ProbeBalancerFactory owner, IChannelControlHelper inner) : IChannelControlHelper
    {
        public Subchannel CreateSubchannel(SubchannelOptions options)
        {
            var subchannel = inner.CreateSubchannel(options);
            var host = options.Addresses.Count > 0 ? options.Addresses[0].EndPoint.Host : "";
            owner.SubchannelCreated[host] = Stopwatch.GetTimestamp();
            owner.SubchannelReady.TryRemove(host, out _);
            owner.FirstPick.TryRemove(host, out _);
            subchannel.OnStateChanged(state =>
            {
                if (state.State == ConnectivityState.Ready) owner.SubchannelReady.TryAdd(host, Stopwatch.GetTimestamp());
            });
            return subchannel;
        }

        public void UpdateState(BalancerState state)
        {
            owner.PickerUpdates.Enqueue(Stopwatch.GetTimestamp());
            inner.UpdateState(state.Picker is { } picker ? new BalancerState(state.ConnectivityState, new ProbePicker(owner, picker)) : state);
        }

        public void RefreshResolver() => inner.RefreshResolver();
    }

    private void Record(ChannelState state)
    {
        var ts = Stopwatch.GetTimestamp();
        var hosts = state.Addresses is { } a ? a.Select(x => x.EndPoint.Host).ToHashSet(StringComparer.Ordinal) : [];
        var published = new Published(ts, hosts);
        Interlocked.Increment(ref _count);
        Updates.Enqueue(published);
        OnPublished?.Invoke(published);
    }

    private sealed class ProbeBalancer(ProbeBalancerFactory owner, LoadBalancer? inner, IChannelControlHelper controller) : LoadBalancer
    {
        public override void UpdateChannelState(ChannelState state)
        {
            owner.Record(state);
            if (inner is not null)
            {
                inner.UpdateChannelState(state);
            }
            else
            {
                controller.UpdateState(new BalancerState(ConnectivityState.TransientFailure, new FailPicker()));
            }
        }

        public override void RequestConnection() => inner?.RequestConnection();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner?.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class ProbePicker(ProbeBalancerFactory owner, SubchannelPicker inner) : SubchannelPicker
    {
        public override PickResult Pick(PickContext context)
        {
            var result = inner.Pick(context);
            if (result.Subchannel?.CurrentAddress is { } address) owner.FirstPick.TryAdd(address.EndPoint.Host, Stopwatch.GetTimestamp());
            return result;
        }
    }

    private sealed class FailPicker : SubchannelPicker
    {
        public override PickResult Pick(PickContext context) =>
            PickResult.ForFailure(new Status(StatusCode.Unavailable, "probe: data-only address set, never connected"));
    }
}

/// <summary>
/// Taps a discovery source: every <see cref="Change{T}"/> is timestamped when the subscriber sees it (measurement a),
/// on the SAME subscription (one watch) that <c>ApplyTo</c> uses, because it stays an <see cref="IDiscoveryObservable"/>.
/// </summary>
internal sealed class TappedDiscovery(IDiscoveryObservable inner, Action<Change<EndPoint>, long> onChange) : IDiscoveryObservable
{
    public IObservable<DiscoveryUpdate> Updates { get; } = inner.Updates.Do(update =>
    {
        var ts = Stopwatch.GetTimestamp();
        foreach (var change in update.Changes) onChange(change, ts);
    });

    public IDisposable Subscribe(IObserver<Change<EndPoint>> observer) =>
        Updates.SelectMany(u => u.Changes).Subscribe(observer);
}

/// <summary>
/// A faithful stand-in for grpc-dotnet's DNS resolver on a headless Service: a <see cref="PollingResolver"/> (the base
/// class of grpc-dotnet's own DnsResolver) whose "DNS answer" is the emulator's current ready set, re-resolved every
/// <c>refreshInterval</c> by a timer started with the resolver, exactly like <c>DnsResolverFactory(refreshInterval)</c>.
/// It does not model CoreDNS caching/TTL, which can only add delay.
/// </summary>
internal sealed class EmulatedDnsResolverFactory(EmulatedService service, int port, TimeSpan refreshInterval) : ResolverFactory
{
    public const string Scheme = "emudns";

    public override string Name => Scheme;

    public override Resolver Create(ResolverOptions options) => new DnsLikeResolver(service, port, refreshInterval, options.LoggerFactory);

    private sealed class DnsLikeResolver(EmulatedService service, int port, TimeSpan interval, ILoggerFactory loggerFactory)
        : PollingResolver(loggerFactory ?? NullLoggerFactory.Instance)
    {
        private Timer? _timer;

        protected override void OnStarted()
        {
            base.OnStarted();
            _timer = new Timer(_ => Refresh(), null, interval, interval);
        }

        protected override Task ResolveAsync(CancellationToken cancellationToken)
        {
            var addresses = service.Pods.Where(p => p.Ready).Select(p => new BalancerAddress(p.Ip, port)).ToList();
            Listener(ResolverResult.ForResult(addresses));
            return Task.CompletedTask;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _timer?.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>Percentiles (nearest rank) over milliseconds.</summary>
internal sealed class Samples(string name)
{
    private readonly List<double> _values = [];

    public string Name { get; } = name;

    public int Count => _values.Count;

    public IReadOnlyList<double> Values => _values;

    public int Missing { get; set; }

    public void Add(double ms) => _values.Add(ms);

    public double P(double q)
    {
        if (_values.Count == 0) return double.NaN;
        var sorted = _values.Order().ToList();
        var rank = (int)Math.Ceiling(q / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public double Max => _values.Count == 0 ? double.NaN : _values.Max();

    public double Mean => _values.Count == 0 ? double.NaN : _values.Average();
}
