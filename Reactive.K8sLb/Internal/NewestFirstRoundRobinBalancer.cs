using System.Net;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.HealthChecking;
using Reactive.K8sLb.Internal.LoadAware;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The <c>newest_first_round_robin</c> policy: one subchannel per address, round robin over the ready ones.
/// <list type="bullet">
/// <item>A new picker starts at an address that is genuinely new to the set and has just become ready (at random among
/// several), so a scaled-up pod serves the very next call. An address that left the set within
/// <see cref="RejoinWindow"/> (a readiness flap) or a subchannel that reconnects is not new: it just rejoins the cycle.
/// Otherwise a new picker starts at random, like grpc-dotnet's round_robin, so many clients do not start on one pod.</item>
/// <item>Unlike grpc-dotnet's round_robin (grpc/grpc-dotnet#1860), the address list is authoritative even while Ready:
/// an empty list, or a failure from this library's resolver (<see cref="AddressSetUnavailableException"/>: no ready
/// endpoints, discovery failing before its first snapshot, disposal), removes every subchannel and fails calls with the
/// resolver's status. While that resolver waits for its first snapshot, calls queue, bounded by their deadlines.</item>
/// <item>A failure from any other resolver keeps a working (Ready) set, as gRPC specifies for resolver errors.</item>
/// <item>Outlier ejection (<see cref="OutlierDetector"/>, unless turned off): an endpoint whose calls fail is excluded
/// from picking for a while. The picker reads the exclusion at every pick, so it composes with connectivity (only Ready
/// subchannels are in a picker) and with the newest-first start (an excluded endpoint is skipped).</item>
/// <item>Active health checking (<see cref="HealthWatcher"/>, when turned on and the channel is a
/// <see cref="BalancedChannel"/>): a Ready endpoint whose <c>grpc.health.v1</c> health service says it is not SERVING is
/// excluded the same way, until it says SERVING.</item>
/// <item>Topology (<see cref="TopologyPolicy"/>): the endpoints the rules make local (<see cref="TopologyDecision"/>,
/// decided again for every address list) form the picker's first tier and the others its second, used when every local
/// endpoint is excluded, when none is connected, or for the share of calls that spills over in
/// <see cref="TopologyMode.PreferLocal"/>. A log line says when and why routing switches between local and all.</item>
/// </list>
/// The channel calls every member under its own lock; the lock here only keeps the state consistent on its own.
/// <para>Telemetry: each subchannel has a <see cref="BalancerInstruments.Endpoint"/> (picks, calls, state changes and
/// gRFC A94's subchannel metrics, tagged with the endpoint and the Service of <see cref="ServiceIdentity"/>, which the
/// resolver attaches to its results); the log messages carry that Service as a scope once it is known.</para>
/// </summary>
internal sealed class NewestFirstRoundRobinBalancer : LoadBalancer
{
    /// <summary>How long an address that left the set is remembered, so that its return is not taken for a new pod.</summary>
    internal static readonly TimeSpan RejoinWindow = TimeSpan.FromMinutes(5);

    private const int RejoinMemoryCapacity = 10_000;

    private const string LoggerCategory = "Reactive.K8sLb.Balancer";

    private readonly object _gate = new();
    private readonly IChannelControlHelper _controller;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IScheduler _clock;
    private readonly Func<int, int> _random;
    private readonly RecentAddresses _recent = new(RejoinWindow, RejoinMemoryCapacity);
    private readonly OutlierDetector? _detector;
    private readonly EjectionReporter? _ejections;
    private readonly HealthCheckPolicy? _healthPolicy;
    private readonly CallInvoker? _healthInvoker;
    private readonly HealthReporter? _healthReports;
    private readonly TopologyPolicy _topology;
    private readonly PickingPolicy? _picking;
    private readonly SlowStartPolicy? _slowStart;
    private readonly Func<long> _ticks;
    private readonly LocalSpillReporter _spill;
    private TopologyDecision? _decision;
    private string? _routing;
    private List<Entry> _entries = [];
    private ILogger _logger;
    private ServiceIdentity? _identity;
    private BalancerInstruments.Endpoint[]? _pickerEndpoints;
    private double _pickerLocalShare;
    private int _pickerLocalCount;
    private bool _reported;
    private bool _hadReadyPicker;
    private bool _disposed;

    /// <summary>Creates the balancer.</summary>
    /// <param name="controller">The channel.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="outlierPolicy">Outlier ejection rules, or <see langword="null"/> for none.</param>
    /// <param name="clock">The clock of the rejoin window and of outlier detection; <see langword="null"/> for <see cref="DefaultScheduler.Instance"/>. Internal for testing.</param>
    /// <param name="random">Picks an index below its argument; <see langword="null"/> for <see cref="Random.Shared"/>. Internal for testing.</param>
    /// <param name="healthPolicy">Active health checking, or <see langword="null"/> for none.</param>
    /// <param name="healthChannel">The channel health calls go through; without one (a <c>k8s:///</c> channel the user
    /// built) health checking is off, with a warning.</param>
    /// <param name="topology">Zone- and node-aware routing; <see langword="null"/> for none.</param>
    /// <param name="picking">Load-aware picking (<c>least_request</c>, <c>peak_ewma</c>); <see langword="null"/> for
    /// newest-first round robin.</param>
    /// <param name="slowStart">Slow start of endpoints that join a running set; <see langword="null"/> for none.</param>
    public NewestFirstRoundRobinBalancer(IChannelControlHelper controller, ILoggerFactory loggerFactory, OutlierPolicy? outlierPolicy = null, IScheduler? clock = null, Func<int, int>? random = null, HealthCheckPolicy? healthPolicy = null, HealthCheckChannel? healthChannel = null, TopologyPolicy? topology = null, PickingPolicy? picking = null, SlowStartPolicy? slowStart = null)
    {
        _picking = picking;
        _slowStart = slowStart;
        _topology = topology ?? new TopologyPolicy(TopologyMode.Off, null, null, null);
        _controller = controller;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger(LoggerCategory);
        _clock = clock ?? DefaultScheduler.Instance;
        _random = random ?? Random.Shared.Next;
        // Latencies and slow start read this clock: a monotonic one in production (an NTP step of the wall clock would
        // look like a huge latency peak), the given scheduler's in tests.
        _ticks = clock is null ? MonotonicTicks : () => _clock.Now.UtcTicks;
        _spill = new LocalSpillReporter(_logger);
        if (outlierPolicy is not null)
        {
            _ejections = new EjectionReporter(_logger);
            _detector = new OutlierDetector(outlierPolicy, _clock, _ejections, _random);
        }

        if (healthPolicy is not null)
        {
            _healthInvoker = healthChannel?.Invoker;
            if (_healthInvoker is null)
            {
                Log.HealthCheckUnavailable(_logger);
            }
            else
            {
                _healthPolicy = healthPolicy;
                _healthReports = new HealthReporter(_logger);
            }
        }
    }

    private static long MonotonicTicks() => (long)(System.Diagnostics.Stopwatch.GetTimestamp() * TicksPerStopwatchTick);

    private static readonly double TicksPerStopwatchTick = (double)TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency;

    /// <summary>The outlier detector, or <see langword="null"/> when ejection is off. Internal for testing.</summary>
    internal OutlierDetector? Detector => _detector;

    /// <summary>The connectivity state last reported to the channel.</summary>
    private ConnectivityState State { get; set; } = ConnectivityState.Idle;

    /// <inheritdoc />
    public override void UpdateChannelState(ChannelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_gate)
        {
            if (_disposed) return;
            UpdateIdentity(state);
            if (state.Status.StatusCode != StatusCode.OK)
            {
                OnResolverFailure(state.Status);
            }
            else if (state.Addresses is { Count: > 0 } addresses)
            {
                UpdateAddresses(addresses);
            }
            else if (_reported || state.LoadBalancingConfig is null)
            {
                // The list is authoritative: nothing to route to.
                RemoveAll();
                Report(ConnectivityState.TransientFailure, new FailurePicker(new Status(StatusCode.Unavailable, "Resolver returned no addresses.")));
            }

            // An empty first result that selects the policy (this library's resolver sends one, immediately followed by
            // its real state) reports nothing; any other empty result fails calls at once, as round_robin does.
        }
    }

    /// <inheritdoc />
    public override void RequestConnection()
    {
        lock (_gate)
        {
            foreach (var entry in _entries) entry.Subchannel.RequestConnection();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var entry in _entries)
            {
                entry.Removed = true;
                entry.HealthWatcher?.Dispose();
                entry.Subchannel.Dispose();
            }

            _entries = [];
        }

        _detector?.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>
    /// Takes the Service the resolver names (if it names one): endpoint tags and the log scope follow it. grpc-dotnet
    /// does not pass a resolver result's attributes on (its ConnectionManager builds every ChannelState with empty
    /// attributes), so the library's resolver stamps the identity on the addresses; the state's attributes are read too,
    /// for a channel that does pass them.
    /// </summary>
    private void UpdateIdentity(ChannelState state)
    {
        ServiceIdentity? identity = null;
        if (state.Addresses is { Count: > 0 } addresses) addresses[0].Attributes.TryGetValue(ServiceIdentity.AttributeKey, out identity);
        if (identity is null) state.Attributes.TryGetValue(ServiceIdentity.AttributeKey, out identity);
        if (identity is null || identity == _identity) return;
        _identity = identity;
        _logger = new ServiceScopedLoggerFactory(_loggerFactory, new ServiceLogScope(identity.Service, identity.Namespace)).CreateLogger(LoggerCategory);
        if (_ejections is not null) _ejections.Logger = _logger;
        if (_healthReports is not null) _healthReports.Logger = _logger;
        _spill.Logger = _logger;
        foreach (var entry in _entries) entry.Telemetry.SetIdentity(identity);
    }

    private void OnResolverFailure(Status status)
    {
        if (status.DebugException is AddressSetUnavailableException unavailable)
        {
            RemoveAll();
            Log.NoAddressSet(_logger, unavailable.Reason, status.Detail);
            if (unavailable.CallsShouldWait) Report(ConnectivityState.Connecting, QueuePicker.Instance);
            else Report(ConnectivityState.TransientFailure, new FailurePicker(status));
            return;
        }

        if (State == ConnectivityState.Ready)
        {
            Log.KeepingReadySetDespiteResolverError(_logger, _entries.Count, status.Detail);
            return;
        }

        RemoveAll();
        Report(ConnectivityState.TransientFailure, new FailurePicker(status));
    }

    private void UpdateAddresses(IReadOnlyList<BalancerAddress> addresses)
    {
        var now = _clock.Now;
        var previous = new Dictionary<DnsEndPoint, Entry>(_entries.Count);
        foreach (var entry in _entries) previous[entry.Address.EndPoint] = entry;

        var next = new List<Entry>(addresses.Count);
        var created = new List<Entry>();
        var seen = new HashSet<DnsEndPoint>();
        foreach (var address in addresses)
        {
            if (!seen.Add(address.EndPoint)) continue;
            if (previous.Remove(address.EndPoint, out var kept))
            {
                if (!BalancerAddressComparer.SameAttributes(kept.Address, address))
                {
                    // Metadata only (zone, hints, ...). A Ready or Idle subchannel takes the new address without
                    // reconnecting (its EndPoint is unchanged); a connecting or failing one would start over and skip
                    // its reconnect backoff, so it gets the address once it is Ready.
                    kept.Address = address;
                    if (kept.State is ConnectivityState.Ready or ConnectivityState.Idle) kept.Subchannel.UpdateAddresses([address]);
                    else kept.AddressPending = true;
                }

                next.Add(kept);
                continue;
            }

            var subchannel = _controller.CreateSubchannel(new SubchannelOptions([address]));
            var telemetry = new BalancerInstruments.Endpoint(subchannel, address, _identity);
            if (_detector is not null) telemetry.Detect(_detector);
            if (_picking is { } picking) telemetry.TrackLoad(new EndpointLoad(picking.DefaultRttTicks, picking.DecayTicks, now.UtcTicks), picking.Measure == LoadMeasure.PeakEwma ? _ticks : null);
            var fresh = new Entry(telemetry, address, isNew: !_recent.TakeRecentlyRemoved(address.EndPoint, now))
            {
                // Slow start is for endpoints that join a running set: those of the first address list start at full weight.
                RampsUp = _slowStart is not null && (_hadReadyPicker || _entries.Count > 0),
            };
            if (_healthPolicy is not null) fresh.HealthWatcher = new HealthWatcher(telemetry, _healthPolicy, _healthInvoker!, _clock, _healthReports!);
            subchannel.OnStateChanged(state => OnSubchannelStateChanged(fresh, state));
            next.Add(fresh);
            created.Add(fresh);
        }

        // Replace the set before disposing: a disposed subchannel reports Shutdown, which must find it gone.
        _entries = next;
        DecideTopology();
        foreach (var removed in previous.Values) Remove(removed, now);
        Log.AddressesUpdated(_logger, next.Count, created.Count, previous.Count);
        foreach (var entry in created) entry.Subchannel.RequestConnection();
        UpdateBalancingState(lastStatus: null);
    }

    private void OnSubchannelStateChanged(Entry entry, SubchannelState state)
    {
        BalancerAddress? pending = null;
        lock (_gate)
        {
            // Recorded for removed subchannels too: their shutdown ends a connection (gRFC A94's disconnections).
            entry.Telemetry.OnStateChanged(state.State, state.Status);
            if (_disposed || entry.Removed) return;

            // Slow start counts from the moment a connection is ready, for endpoints that join a running set (the first
            // ones start at full weight: there is nobody to take their share).
            // The ramp starts when the connection is first ready; a reconnect later does not start it again.
            if (state.State == ConnectivityState.Ready && entry.RampsUp)
            {
                entry.RampsUp = false;
                entry.Telemetry.ReadySince = _ticks();
            }

            entry.State = state.State;
            _detector?.SetReady(entry.Telemetry.Health, state.State == ConnectivityState.Ready);
            entry.HealthWatcher?.SetReady(state.State == ConnectivityState.Ready);
            if (entry.AddressPending && state.State is ConnectivityState.Ready or ConnectivityState.Idle)
            {
                entry.AddressPending = false;
                pending = entry.Address;
            }

            UpdateBalancingState(state.Status);
        }

        // Metadata that changed while the subchannel was connecting (outside our lock: the subchannel takes its own).
        if (pending is not null) entry.Subchannel.UpdateAddresses([pending]);

        // As grpc-dotnet's balancers do: a failing or idle subchannel is a hint that the address set may be stale,
        // and an idle one reconnects so it is ready for the next call.
        if (state.State is ConnectivityState.TransientFailure or ConnectivityState.Idle) _controller.RefreshResolver();
        if (state.State == ConnectivityState.Idle) entry.Subchannel.RequestConnection();
    }

    private void UpdateBalancingState(Status? lastStatus)
    {
        var ready = new List<Entry>(_entries.Count);
        var connecting = false;
        foreach (var entry in _entries)
        {
            if (entry.State == ConnectivityState.Ready) ready.Add(entry);
            else if (entry.State is ConnectivityState.Connecting or ConnectivityState.Idle) connecting = true;
        }

        if (ready.Count == 0)
        {
            _pickerEndpoints = null;
            if (connecting)
            {
                Report(ConnectivityState.Connecting, QueuePicker.Instance);
            }
            else
            {
                var status = lastStatus is { StatusCode: not StatusCode.OK } failed
                    ? failed
                    : new Status(StatusCode.Unavailable, "No endpoint is reachable.");
                Report(ConnectivityState.TransientFailure, new FailurePicker(status));
            }

            return;
        }

        var (local, others, localShare) = SplitByTopology(ready);

        // Same tiers as the current picker: keep it (and its positions in the cycles).
        var endpoints = new BalancerInstruments.Endpoint[ready.Count];
        for (var i = 0; i < local.Count; i++) endpoints[i] = local[i].Telemetry;
        for (var i = 0; i < others.Count; i++) endpoints[local.Count + i] = others[i].Telemetry;
        if (State == ConnectivityState.Ready
            && _pickerEndpoints is { } current
            && current.AsSpan().SequenceEqual(endpoints)
            && _pickerLocalShare == localShare
            && _pickerLocalCount == local.Count) return;

        _pickerEndpoints = endpoints;
        _pickerLocalShare = localShare;
        _pickerLocalCount = local.Count;
        // Slow start and newest-first ask for opposite things: with slow start on, a new endpoint does not jump the queue.
        var preferNew = _hadReadyPicker && _slowStart is null;
        _hadReadyPicker = true;
        if (_picking is { } picking)
        {
            foreach (var entry in local) entry.IsNew = false;
            foreach (var entry in others) entry.IsNew = false;
            Report(ConnectivityState.Ready, new LoadAwarePicker(
                endpoints.AsSpan(0, local.Count).ToArray(),
                endpoints.AsSpan(local.Count).ToArray(),
                localShare,
                picking.Measure,
                picking.Choices,
                _random,
                _ticks,
                _slowStart,
                _spill,
                routesHealthChecks: _healthPolicy is not null));
            return;
        }

        Report(ConnectivityState.Ready, new RoundRobinPicker(
            endpoints.AsSpan(0, local.Count).ToArray(),
            StartIndex(local, preferNew),
            endpoints.AsSpan(local.Count).ToArray(),
            StartIndex(others, preferNew),
            localShare,
            _random,
            _spill,
            routesHealthChecks: _healthPolicy is not null,
            slowStart: _slowStart,
            clock: _ticks));
    }

    /// <summary>A ready address that is new to the set, at random among several; else at random.</summary>
    private int StartIndex(List<Entry> ready, bool preferNew)
    {
        if (ready.Count == 0) return 0;
        List<int>? fresh = null;
        for (var i = 0; i < ready.Count; i++)
        {
            if (!ready[i].IsNew) continue;
            (fresh ??= []).Add(i);
            ready[i].IsNew = false; // The preference is one start of the cycle, never more.
        }

        return preferNew && fresh is not null ? fresh[_random(fresh.Count)] : _random(ready.Count);
    }

    /// <summary>
    /// The topology decision for the current address list (<see cref="TopologyDecision"/>): marks the local entries and
    /// each endpoint's locality tag. Called for every new list, metadata-only changes included (hints move).
    /// </summary>
    private void DecideTopology()
    {
        var metadata = new KubernetesEndpoint?[_entries.Count];
        for (var i = 0; i < _entries.Count; i++)
        {
            _entries[i].Address.Attributes.TryGetValue(KubernetesEndpoint.AttributeKey, out var endpoint);
            metadata[i] = endpoint;
            _entries[i].Telemetry.Locality = _topology.LocalityOf(endpoint);
        }

        var decision = TopologyDecision.Decide(_topology, metadata);
        for (var i = 0; i < _entries.Count; i++) _entries[i].IsLocal = decision.IsLocal[i];
        _decision = decision;
    }

    /// <summary>
    /// Splits the connected entries into the picker's tiers: the local ones and the others, with the share of calls
    /// that go to the local tier first. All in one tier when topology does not narrow the set or no local entry is
    /// connected. Logs when the routing changes.
    /// </summary>
    private (List<Entry> Local, List<Entry> Others, double LocalShare) SplitByTopology(List<Entry> ready)
    {
        var decision = _decision;
        if (decision is null || _topology.Mode == TopologyMode.Off) return (ready, [], 1.0);
        if (!decision.Narrows)
        {
            ReportRouting($"all:{(decision.Rule.Length > 0 ? decision.Rule : decision.Why)}", () =>
            {
                if (decision.HintsIgnored || _routing?.StartsWith("all:", StringComparison.Ordinal) == false) Log.TopologyAll(_logger, _entries.Count, decision.Why);
                else Log.TopologyAllQuiet(_logger, _entries.Count, decision.Why);
            });
            return (ready, [], 1.0);
        }

        var local = new List<Entry>(decision.LocalCount);
        var others = new List<Entry>(ready.Count);
        foreach (var entry in ready) (entry.IsLocal ? local : others).Add(entry);
        if (local.Count == 0)
        {
            // The local endpoints exist but none is connected (starting, or failing): availability first. The warning
            // waits until one has failed to connect: local endpoints that are still connecting while another zone's
            // connected first (half the starts of a client) are no routing change worth a warning.
            if (_entries.Exists(e => e.IsLocal && e.State == ConnectivityState.TransientFailure))
            {
                ReportRouting($"unreachable:{decision.LocalCount}", () => Log.TopologyLocalUnreachable(_logger, decision.LocalCount, decision.Why, others.Count));
            }

            return (others, [], 1.0);
        }

        // The picker's share follows what is connected; the log line follows the decision (every endpoint of the list),
        // so connections coming and going neither repeat it nor print a passing share.
        var share = LocalShareOf(local, ready);
        var planned = _topology.Mode == TopologyMode.PreferLocal ? LocalShareOf(_entries.FindAll(e => e.IsLocal), _entries) : 1.0;
        if (planned < 1.0)
        {
            ReportRouting($"spill:{decision.LocalCount}/{_entries.Count}:{decision.Why}", () =>
            {
                var zoneShare = (double)decision.LocalCount / _entries.Count;
                int sharePercent = Percent(planned), zonePercent = Percent(zoneShare), thresholdPercent = Percent(zoneShare / planned);
                Log.TopologySpillOver(_logger, sharePercent, decision.LocalCount, decision.Why, _entries.Count - decision.LocalCount, _topology.Zone ?? "?", zonePercent, thresholdPercent);
            });
        }
        else
        {
            var total = _entries.Count;
            ReportRouting($"local:{decision.LocalCount}/{total}:{decision.Why}", () => Log.TopologyLocal(_logger, decision.LocalCount, total, decision.Why));
        }

        return (local, others, share);
    }

    /// <summary>
    /// <see cref="TopologyMode.PreferLocal"/>: the share of calls the local tier takes first, <c>min(1, zoneShare /
    /// MinLocalShare)</c>, where zoneShare is the local tier's part of the connected endpoints and MinLocalShare defaults
    /// to one over the number of zones among them. kube-proxy's rules (<see cref="TopologyMode.Hints"/>) send every call
    /// to the local tier.
    /// </summary>
    private double LocalShareOf(List<Entry> local, List<Entry> ready)
    {
        if (_topology.Mode != TopologyMode.PreferLocal) return 1.0;
        var threshold = _topology.MinLocalShare ?? 1.0 / Math.Max(1, ZoneCount(ready));
        var zoneShare = (double)local.Count / ready.Count;
        return zoneShare >= threshold ? 1.0 : zoneShare / threshold;
    }

    private static int ZoneCount(List<Entry> ready)
    {
        var zones = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in ready)
        {
            if (entry.Address.Attributes.TryGetValue(KubernetesEndpoint.AttributeKey, out var endpoint) && !string.IsNullOrEmpty(endpoint.Zone)) zones.Add(endpoint.Zone);
        }

        return zones.Count;
    }

    private static int Percent(double share) => (int)Math.Round(share * 100);

    /// <summary>Logs a routing state once, when it differs from the last one logged.</summary>
    private void ReportRouting(string routing, Action log)
    {
        if (string.Equals(routing, _routing, StringComparison.Ordinal)) return;
        log();
        _routing = routing;
        _spill.Reset();
    }

    private void RemoveAll()
    {
        var now = _clock.Now;
        var removed = _entries;
        _entries = [];
        _pickerEndpoints = null;
        foreach (var entry in removed) Remove(entry, now);
    }

    private void Remove(Entry entry, DateTimeOffset now)
    {
        entry.Removed = true;
        entry.HealthWatcher?.Dispose();
        _detector?.Remove(entry.Telemetry.Health);
        _recent.Removed(entry.Address.EndPoint, now);
        entry.Subchannel.Dispose();
    }

    private void Report(ConnectivityState state, SubchannelPicker picker)
    {
        State = state;
        _reported = true;
        _controller.UpdateState(new BalancerState(state, picker));
    }

    private sealed class Entry(BalancerInstruments.Endpoint telemetry, BalancerAddress address, bool isNew)
    {
        public BalancerInstruments.Endpoint Telemetry { get; } = telemetry;

        public Subchannel Subchannel => Telemetry.Subchannel;

        public BalancerAddress Address { get; set; } = address;

        public ConnectivityState State { get; set; } = ConnectivityState.Idle;

        /// <summary>Whether slow start ramps it up when its connection is first ready (it joined a running set).</summary>
        public bool RampsUp { get; set; }

        /// <summary>Whether topology makes it local (the picker's first tier).</summary>
        public bool IsLocal { get; set; }

        /// <summary>New to the set and not yet preferred by a picker.</summary>
        public bool IsNew { get; set; } = isNew;

        public bool Removed { get; set; }

        /// <summary>Its active health check, when health checking is on.</summary>
        public HealthWatcher? HealthWatcher { get; set; }

        /// <summary>Its address's attributes changed while it was connecting or failing: give it the address once Ready or Idle.</summary>
        public bool AddressPending { get; set; }
    }
}
