using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The diffing core. Keeps what each slice contributes, reference-counts endpoints per address family, and turns each
/// slice event into the NET changes of the effective endpoint set (the readiness policy applied to the union of the
/// slices of the chosen families). An upsert or delete costs O(size of that slice) unless it flips the family choice
/// or the terminating fallback, which costs O(service). Not thread-safe: one instance per subscription.
/// </summary>
internal sealed class EndpointSetTracker
{
    private readonly Dictionary<string, ProjectedSlice> _slices = new(StringComparer.Ordinal);
    private readonly FamilyCounts[] _families = [new(), new(), new()];
    // The effective set, each endpoint with the metadata last emitted for it.
    private readonly Dictionary<EndPoint, KubernetesEndpoint> _current = [];

    // The metadata each slice gives an endpoint it lists as ready or serving-and-terminating (the candidates for the set).
    private readonly Dictionary<EndPoint, Listings> _listings = [];

    // Endpoints of slices of an unknown address type, by first address (they count as wrong_family).
    private readonly Dictionary<string, int> _untyped = new(StringComparer.Ordinal);
    private readonly SliceProjector _projector;
    private readonly ReadinessPolicy _readiness;
    private readonly AddressFamilyPolicy _addressFamily;
    private readonly ILogger _logger;
    private readonly string _service;
    private bool _usingFallback;

    public EndpointSetTracker(DiscoveryConfig config, ILogger logger)
    {
        _projector = new SliceProjector(config.Port, logger);
        _readiness = config.Readiness;
        _addressFamily = config.AddressFamily;
        _logger = logger;
        _service = config.ServiceName;
    }

    /// <summary>The effective endpoint set after the last event.</summary>
    public IReadOnlyCollection<EndPoint> Current => _current.Keys;

    /// <summary>The effective set with each endpoint's metadata, as last emitted.</summary>
    public IReadOnlyCollection<KubernetesEndpoint> CurrentEndpoints => _current.Values;

    /// <summary>Whether a complete snapshot (a reset) has been applied.</summary>
    public bool IsSynchronized { get; private set; }

    /// <summary>
    /// How the endpoints the slices list are used, after the last event; O(1). Each distinct endpoint counts once, in
    /// the first applicable of: wrong_family (its slice's family is not in use), missing_port, bad_address (none of its
    /// addresses parses), then by its conditions (listed ready in any slice: ready; else serving and terminating:
    /// serving_terminating while that fallback is in use, not_ready otherwise; else not_ready). Endpoints without an
    /// address (wrong family, missing port, bad address) are told apart by their first address text.
    /// </summary>
    public EndpointCounts Counts
    {
        get
        {
            var mode = Mode();
            int ready = 0, fallback = 0, notReady = 0, wrongFamily = _untyped.Count, missingPort = 0, badAddress = 0;
            for (var family = 0; family < _families.Length; family++)
            {
                var counts = _families[family];
                if (!mode.Includes((SliceFamily)family))
                {
                    wrongFamily += counts.Ready.Count + counts.FallbackOnly + counts.NotReadyOnly + counts.MissingPort.Count + counts.BadAddress.Count;
                    continue;
                }

                missingPort += counts.MissingPort.Count;
                badAddress += counts.BadAddress.Count;
                notReady += counts.NotReadyOnly;
                if (mode.Fallback)
                {
                    fallback += counts.FallbackOnly;
                }
                else
                {
                    ready += counts.Ready.Count;
                    notReady += counts.FallbackOnly;
                }
            }

            return new EndpointCounts(ready, fallback, notReady, wrongFamily, missingPort, badAddress);
        }
    }

    /// <summary>Why the effective set is empty, as far as the slices tell (meaningful only when it is).</summary>
    public EmptySetReason EmptyReason
    {
        get
        {
            if (_slices.Count == 0) return EmptySetReason.NoSlices;
            var mode = Mode();
            for (var family = 0; family < _families.Length; family++)
            {
                if (mode.Includes((SliceFamily)family) && _families[family].SlicesWithPort > 0) return EmptySetReason.NoReadyEndpoints;
            }

            return EmptySetReason.PortNotFound;
        }
    }

    /// <summary>Applies one event and returns the net changes: inserts first, then updates (an endpoint that stays with
    /// new metadata), then removes.</summary>
    public IReadOnlyList<Change<KubernetesEndpoint>> Apply(SliceEvent sliceEvent)
    {
        ArgumentNullException.ThrowIfNull(sliceEvent);
        var modeBefore = Mode();
        List<Change<KubernetesEndpoint>> changes;
        switch (sliceEvent.Kind)
        {
            case SliceEventKind.Reset:
                // Forget only the slices that vanished: a slice listed again is the same slice (its warnings were
                // already logged), and Store replaces its old contribution.
                var listed = new List<(string Key, V1EndpointSlice Slice)>(sliceEvent.Slices.Count);
                foreach (var slice in sliceEvent.Slices)
                {
                    if (KeyOf(slice) is { } key) listed.Add((key, slice));
                }

                var keep = listed.Select(l => l.Key).ToHashSet(StringComparer.Ordinal);
                foreach (var key in _slices.Keys.Where(k => !keep.Contains(k)).ToArray()) Forget(key);
                foreach (var (key, slice) in listed) Store(key, slice);

                IsSynchronized = true;
                changes = Recompute();
                break;

            default:
                var sliceKey = KeyOf(sliceEvent.Slice!);
                if (sliceKey is null) return [];
                _slices.TryGetValue(sliceKey, out var before);
                var after = sliceEvent.Kind == SliceEventKind.Upserted ? Store(sliceKey, sliceEvent.Slice!) : Forget(sliceKey);
                changes = Mode() == modeBefore ? Reconcile(before, after, modeBefore) : Recompute();
                break;
        }

        // Log when terminating endpoints actually start being used (not for a service that has no endpoint at all).
        var usingFallback = Mode().Fallback && _current.Count > 0;
        if (usingFallback && !_usingFallback) Log.UsingTerminatingFallback(_logger, _service);
        _usingFallback = usingFallback;

        if (changes.Count > 0)
        {
            int inserted = 0, removed = 0;
            foreach (var change in changes)
            {
                if (change.Kind == ChangeKind.Insert) inserted++;
                else if (change.Kind == ChangeKind.Remove) removed++;
            }

            Log.EndpointsChanged(_logger, _service, inserted, removed, _current.Count);
        }

        return changes;
    }

    private ProjectedSlice Store(string key, V1EndpointSlice slice)
    {
        // The new contribution first, then the old one withdrawn: an endpoint the slice still lists never drops to
        // a zero count, so its entries stay in place instead of being removed and added again.
        var projected = _projector.Project(key, slice);
        Count(projected, +1);
        if (_slices.TryGetValue(key, out var old)) Count(old, -1);
        _slices[key] = projected;
        return projected;
    }

    private ProjectedSlice? Forget(string key)
    {
        if (_slices.Remove(key, out var old)) Count(old, -1);
        _projector.Forget(key);
        return null;
    }

    private void Count(ProjectedSlice slice, int delta)
    {
        if (slice.Family is not { } family)
        {
            foreach (var key in slice.Unusable) Adjust(_untyped, key, delta);
            return;
        }

        var counts = _families[(int)family];
        counts.Slices += delta;
        if (slice.HasPort) counts.SlicesWithPort += delta;
        foreach (var endpoint in slice.Ready)
        {
            counts.Adjust(counts.Ready, endpoint.EndPoint, delta);
            List(endpoint, delta);
        }

        foreach (var endpoint in slice.Fallback)
        {
            counts.Adjust(counts.Fallback, endpoint.EndPoint, delta);
            List(endpoint, delta);
        }

        foreach (var endpoint in slice.NotReady) counts.Adjust(counts.NotReady, endpoint.EndPoint, delta);
        var unusable = slice.HasPort ? counts.BadAddress : counts.MissingPort;
        foreach (var key in slice.Unusable) Adjust(unusable, key, delta);
    }

    /// <summary>Reference-counts one key; returns whether it appeared or disappeared.</summary>
    private static bool Adjust<TKey>(Dictionary<TKey, int> counts, TKey key, int delta)
        where TKey : notnull
    {
        // One hash lookup for the common case (adding, or decrementing a shared endpoint).
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out var existed);
        count += delta;
        if (count != 0) return !existed;
        counts.Remove(key);
        return true;
    }

    /// <summary>Adds (or withdraws) a slice's listing of an endpoint as a candidate for the set.</summary>
    private void List(KubernetesEndpoint endpoint, int delta)
    {
        if (delta > 0)
        {
            ref var listings = ref CollectionsMarshal.GetValueRefOrAddDefault(_listings, endpoint.EndPoint, out _);
            (listings ??= new Listings()).Add(endpoint);
        }
        else if (_listings.TryGetValue(endpoint.EndPoint, out var listings) && listings.Remove(endpoint))
        {
            _listings.Remove(endpoint.EndPoint);
        }
    }

    /// <summary>Only the endpoints of the changed slice can have changed: check just those.</summary>
    private List<Change<KubernetesEndpoint>> Reconcile(ProjectedSlice? before, ProjectedSlice? after, SetMode mode)
    {
        var changes = new Changes();
        if (after is not null) { Check(after.Ready); Check(after.Fallback); }
        if (before is not null) { Check(before.Ready); Check(before.Fallback); }
        return changes.ToList();

        void Check(KubernetesEndpoint[] endpoints)
        {
            foreach (var endpoint in endpoints) Settle(endpoint.EndPoint, IsWanted(endpoint.EndPoint, mode), ref changes);
        }
    }

    /// <summary>The family choice or the fallback flipped (or a reset): diff the whole desired set.</summary>
    private List<Change<KubernetesEndpoint>> Recompute()
    {
        var mode = Mode();
        var desired = new HashSet<EndPoint>();
        for (var family = 0; family < _families.Length; family++)
        {
            if (!mode.Includes((SliceFamily)family)) continue;
            desired.UnionWith((mode.Fallback ? _families[family].Fallback : _families[family].Ready).Keys);
        }

        var changes = new Changes();
        foreach (var endpoint in desired) Settle(endpoint, wanted: true, ref changes);
        foreach (var endpoint in _current.Keys.Where(e => !desired.Contains(e)).ToList()) Settle(endpoint, wanted: false, ref changes);
        return changes.ToList();
    }

    /// <summary>Brings one endpoint of the effective set up to date: in or out, and with its chosen metadata.</summary>
    private void Settle(EndPoint endpoint, bool wanted, ref Changes changes)
    {
        if (!wanted)
        {
            if (_current.Remove(endpoint, out var gone)) (changes.Removes ??= []).Add(Change.Remove(gone));
            return;
        }

        var chosen = _listings[endpoint].Chosen;
        ref var emitted = ref CollectionsMarshal.GetValueRefOrAddDefault(_current, endpoint, out var present);
        if (!present) (changes.Inserts ??= []).Add(Change.Insert(chosen));
        else if (!emitted!.Equals(chosen)) (changes.Updates ??= []).Add(Change.Update(chosen));
        else return;
        emitted = chosen;
    }

    private bool IsWanted(EndPoint endpoint, SetMode mode)
    {
        var family = FamilyOf(endpoint);
        if (!mode.Includes(family)) return false;
        var counts = _families[(int)family];
        return (mode.Fallback ? counts.Fallback : counts.Ready).ContainsKey(endpoint);
    }

    /// <summary>The active families, and whether the terminating fallback is in use.</summary>
    private SetMode Mode()
    {
        var families = _addressFamily switch
        {
            AddressFamilyPolicy.IPv4Only => SliceFamilies.IPv4,
            AddressFamilyPolicy.IPv6Only => SliceFamilies.IPv6,
            AddressFamilyPolicy.Any => SliceFamilies.IPv4 | SliceFamilies.IPv6 | SliceFamilies.Fqdn,
            _ => _families[(int)SliceFamily.IPv4].Slices > 0 ? SliceFamilies.IPv4 : SliceFamilies.IPv6 | SliceFamilies.Fqdn,
        };

        var mode = new SetMode(families, Fallback: false);
        var anyReady = false;
        for (var family = 0; family < _families.Length; family++)
        {
            if (mode.Includes((SliceFamily)family) && _families[family].Ready.Count > 0) anyReady = true;
        }

        return mode with { Fallback = !anyReady && _readiness == ReadinessPolicy.ReadyWithTerminatingFallback };
    }

    private static SliceFamily FamilyOf(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } => SliceFamily.IPv6,
        IPEndPoint => SliceFamily.IPv4,
        _ => SliceFamily.Fqdn,
    };

    private string? KeyOf(V1EndpointSlice slice)
    {
        var name = slice.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            Log.SliceWithoutName(_logger, slice.Metadata?.NamespaceProperty);
            return null;
        }

        return $"{slice.Metadata!.NamespaceProperty}/{name}";
    }

    /// <summary>Changes of one event, in the order they are reported.</summary>
    private struct Changes
    {
        public List<Change<KubernetesEndpoint>>? Inserts;
        public List<Change<KubernetesEndpoint>>? Updates;
        public List<Change<KubernetesEndpoint>>? Removes;

        public readonly List<Change<KubernetesEndpoint>> ToList()
        {
            var all = new List<Change<KubernetesEndpoint>>((Inserts?.Count ?? 0) + (Updates?.Count ?? 0) + (Removes?.Count ?? 0));
            if (Inserts is not null) all.AddRange(Inserts);
            if (Updates is not null) all.AddRange(Updates);
            if (Removes is not null) all.AddRange(Removes);
            return all;
        }
    }

    /// <summary>
    /// The slices' listings of one endpoint as ready or serving-and-terminating (usually one). The chosen metadata is
    /// that of the best conditions (ready, then serving and terminating), the first slice by name among equals, so
    /// the choice does not depend on the order of events.
    /// </summary>
    private sealed class Listings
    {
        private KubernetesEndpoint? _first;
        private List<KubernetesEndpoint>? _more;

        public KubernetesEndpoint Chosen
        {
            get
            {
                var best = _first!;
                if (_more is null) return best;
                foreach (var other in _more)
                {
                    if (Better(other, best)) best = other;
                }

                return best;
            }
        }

        public void Add(KubernetesEndpoint endpoint)
        {
            if (_first is null) _first = endpoint;
            else (_more ??= []).Add(endpoint);
        }

        /// <summary>Withdraws a listing (the very object added: a slice's old projection); returns whether none is left.</summary>
        public bool Remove(KubernetesEndpoint endpoint)
        {
            if (ReferenceEquals(_first, endpoint))
            {
                _first = null;
                if (_more is { Count: > 0 })
                {
                    _first = _more[^1];
                    _more.RemoveAt(_more.Count - 1);
                }
            }
            else
            {
                var index = _more?.FindIndex(e => ReferenceEquals(e, endpoint)) ?? -1;
                if (index >= 0) _more!.RemoveAt(index);
            }

            return _first is null;
        }

        private static bool Better(KubernetesEndpoint a, KubernetesEndpoint b)
        {
            var rank = Rank(a).CompareTo(Rank(b));
            return rank < 0 || (rank == 0 && string.CompareOrdinal(a.SliceName, b.SliceName) < 0);
        }

        private static int Rank(KubernetesEndpoint endpoint) => endpoint.Ready ? 0 : 1;
    }

    private sealed class FamilyCounts
    {
        public int Slices { get; set; }

        public int SlicesWithPort { get; set; }

        public Dictionary<EndPoint, int> Ready { get; } = [];

        public Dictionary<EndPoint, int> Fallback { get; } = [];

        public Dictionary<EndPoint, int> NotReady { get; } = [];

        public Dictionary<string, int> MissingPort { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, int> BadAddress { get; } = new(StringComparer.Ordinal);

        /// <summary>Distinct endpoints in <see cref="Fallback"/> and not in <see cref="Ready"/>.</summary>
        public int FallbackOnly { get; private set; }

        /// <summary>Distinct endpoints in <see cref="NotReady"/> only.</summary>
        public int NotReadyOnly { get; private set; }

        /// <summary>Reference-counts an endpoint in one of the three condition maps, keeping the distinct tallies.
        /// Only an endpoint that enters or leaves a map costs the two extra lookups.</summary>
        public void Adjust(Dictionary<EndPoint, int> map, EndPoint endpoint, int delta)
        {
            if (!EndpointSetTracker.Adjust(map, endpoint, delta)) return;
            var present = map.ContainsKey(endpoint);
            var after = ClassOf(endpoint);
            var before = ClassOf(endpoint, map, !present);
            if (before == after) return;
            Tally(before, -1);
            Tally(after, +1);
        }

        // 0: none, 1: ready, 2: fallback, 3: not ready; membership of `map` overridden by `inMap` when given.
        private int ClassOf(EndPoint endpoint, Dictionary<EndPoint, int>? map = null, bool inMap = false)
        {
            bool In(Dictionary<EndPoint, int> d) => ReferenceEquals(d, map) ? inMap : d.ContainsKey(endpoint);
            return In(Ready) ? 1 : In(Fallback) ? 2 : In(NotReady) ? 3 : 0;
        }

        private void Tally(int @class, int delta)
        {
            if (@class == 2) FallbackOnly += delta;
            else if (@class == 3) NotReadyOnly += delta;
        }
    }
}
