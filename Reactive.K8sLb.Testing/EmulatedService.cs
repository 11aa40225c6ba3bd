using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Reactive.K8sLb.Testing.Internal;

namespace Reactive.K8sLb.Testing;

/// <summary>
/// A Service and its pods, published as EndpointSlices the way the real EndpointSlice controller does: at most
/// <see cref="KubernetesApiEmulatorOptions.MaxEndpointsPerSlice"/> endpoints per slice, one slice set per address family,
/// an empty placeholder slice while the Service has no endpoints, topology hints as <see cref="TrafficDistribution"/> asks.
/// Every change writes each touched slice once (one resourceVersion per slice) and notifies matching watchers. All members
/// are thread-safe.
/// </summary>
public sealed class EmulatedService
{
    private const string PreferClose = "PreferClose";
    private const string PreferSameZone = "PreferSameZone";
    private const string PreferSameNode = "PreferSameNode";

    private readonly ObjectStore _store;
    private readonly NameGenerator _names;
    private readonly int _maxPerSlice;
    private readonly List<PodState> _pods = [];
    private readonly List<SliceState> _slices = [];
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly List<string> _writeOrder = [];
    private int _batchDepth;
    private string? _trafficDistribution;

    internal EmulatedService(ObjectStore store, NameGenerator names, int maxPerSlice, string @namespace, string name, IReadOnlyList<EmulatedServicePort> ports)
    {
        _store = store;
        _names = names;
        _maxPerSlice = maxPerSlice;
        Namespace = @namespace;
        Name = name;
        Ports = ports;
        Uid = Guid.NewGuid().ToString();

        // The controller publishes an empty placeholder slice for a Service without endpoints.
        NewSlice("IPv4", null);
        Flush();
    }

    /// <summary>Gets the namespace of the Service.</summary>
    public string Namespace { get; }

    /// <summary>Gets the name of the Service.</summary>
    public string Name { get; }

    /// <summary>Gets the uid of the Service, referenced by the slices' ownerReferences.</summary>
    public string Uid { get; }

    /// <summary>Gets the ports copied into every slice.</summary>
    public IReadOnlyList<EmulatedServicePort> Ports { get; }

    /// <summary>Gets a snapshot of the pods, in the order they were added.</summary>
    public IReadOnlyList<EmulatedPod> Pods
    {
        get
        {
            lock (_store.Gate)
            {
                return [.. _pods.Select(p => new EmulatedPod(p.Ip, p.Name, p.Ready, p.Serving, p.Terminating, p.Zone, p.Node, p.Slice.Name))];
            }
        }
    }

    /// <summary>Gets a snapshot of the names of the slices the controller currently owns for this Service.</summary>
    public IReadOnlyList<string> SliceNames
    {
        get
        {
            lock (_store.Gate)
            {
                return [.. _slices.Select(s => s.Name)];
            }
        }
    }

    /// <summary>
    /// Gets or sets the Service's <c>spec.trafficDistribution</c>: <see langword="null"/> (not set, the default),
    /// <c>"PreferClose"</c>, <c>"PreferSameZone"</c> or <c>"PreferSameNode"</c>. Setting it rewrites, once each, the slices
    /// whose hints change, with the hints the EndpointSlice controller writes: every ready endpoint gets
    /// <c>hints.forZones</c> = its own zone (when it has one) and, for <c>"PreferSameNode"</c> only, <c>hints.forNodes</c> =
    /// its own node (when it has one); not-ready endpoints and endpoints with neither get no hints, and so does every
    /// endpoint while the value is <see langword="null"/>. Hints follow every later change (pods added, readiness).
    /// </summary>
    /// <exception cref="ArgumentException">The value is not one of those above.</exception>
    public string? TrafficDistribution
    {
        get
        {
            lock (_store.Gate)
            {
                return _trafficDistribution;
            }
        }

        set
        {
            if (value is not (null or PreferClose or PreferSameZone or PreferSameNode))
            {
                throw new ArgumentException(
                    $"TrafficDistribution must be null, \"{PreferClose}\", \"{PreferSameZone}\" or \"{PreferSameNode}\"; got \"{value}\".",
                    nameof(TrafficDistribution));
            }

            lock (_store.Gate)
            {
                var before = _pods.Select(p => (Pod: p, Hint: HintOf(p))).ToList();
                _trafficDistribution = value;

                // Like the controller's needsUpdate: only slices with a missing or stale hint are written.
                foreach (var (pod, hint) in before.Where(b => HintOf(b.Pod) != b.Hint))
                {
                    Touch(pod.Slice);
                }

                Flush();
            }
        }
    }

    /// <summary>Adds a pod; its endpoint goes to the first slice of its address family with room, or to a new slice.</summary>
    /// <param name="ip">The pod IP, IPv4 or IPv6.</param>
    /// <param name="ready">The ready (and serving) condition.</param>
    /// <param name="name">The pod name; <c>&lt;service&gt;-&lt;5 random chars&gt;</c> when <see langword="null"/>.</param>
    /// <param name="zone">The zone, or <see langword="null"/>.</param>
    /// <param name="node">The node name, or <see langword="null"/>.</param>
    /// <returns>The pod as published.</returns>
    /// <exception cref="InvalidOperationException">A pod with this IP already exists.</exception>
    public EmulatedPod AddPod(string ip, bool ready = true, string? name = null, string? zone = null, string? node = null)
    {
        var family = FamilyOf(ip);
        lock (_store.Gate)
        {
            if (Find(ip) is not null)
            {
                throw new InvalidOperationException($"Service {Namespace}/{Name} already has a pod with IP {ip}.");
            }

            var slice = _slices.FirstOrDefault(s => s.Family == family && s.Ips.Count < _maxPerSlice) ?? NewSlice(family, null);
            var pod = new PodState(ip, name ?? _names.Generate(Name + "-"), slice)
            {
                Ready = ready,
                Serving = ready,
                Zone = zone,
                Node = node,
            };
            _pods.Add(pod);
            slice.Ips.Add(ip);
            Touch(slice);

            // A placeholder is deleted once the Service has a slice with endpoints.
            foreach (var empty in _slices.Where(s => s != slice && s.Ips.Count == 0).ToList())
            {
                _slices.Remove(empty);
                Touch(empty);
            }

            Flush();
            return Snapshot(pod);
        }
    }

    /// <summary>Sets a pod's ready condition (serving follows it; terminating is cleared).</summary>
    /// <param name="ip">The pod IP.</param>
    /// <param name="ready">The new ready condition.</param>
    public void SetReady(string ip, bool ready) => SetConditions(ip, ready, ready, terminating: false);

    /// <summary>Marks a pod as terminating the way the controller reports a graceful shutdown: ready=false, serving=true, terminating=true.</summary>
    /// <param name="ip">The pod IP.</param>
    public void SetTerminating(string ip) => SetConditions(ip, ready: false, serving: true, terminating: true);

    /// <summary>Sets all three endpoint conditions of a pod; writes its slice only if something changed.</summary>
    /// <param name="ip">The pod IP.</param>
    /// <param name="ready">The ready condition.</param>
    /// <param name="serving">The serving condition.</param>
    /// <param name="terminating">The terminating condition.</param>
    public void SetConditions(string ip, bool ready, bool serving, bool terminating)
    {
        lock (_store.Gate)
        {
            var pod = Require(ip);
            if (pod.Ready == ready && pod.Serving == serving && pod.Terminating == terminating)
            {
                return;
            }

            (pod.Ready, pod.Serving, pod.Terminating) = (ready, serving, terminating);
            Touch(pod.Slice);
            Flush();
        }
    }

    /// <summary>
    /// Makes the controller write a pod's endpoint without hints whatever <see cref="TrafficDistribution"/> says (as a
    /// controller in the middle of an update, or another controller, would), or, with <paramref name="omit"/>
    /// <see langword="false"/>, write its hints again. Writes its slice only if the endpoint changes.
    /// </summary>
    /// <param name="ip">The pod IP.</param>
    /// <param name="omit"><see langword="true"/> to omit the endpoint's hints, <see langword="false"/> to write them again.</param>
    public void OmitHints(string ip, bool omit = true)
    {
        lock (_store.Gate)
        {
            var pod = Require(ip);
            var before = HintOf(pod);
            pod.OmitHints = omit;
            if (HintOf(pod) != before)
            {
                Touch(pod.Slice);
                Flush();
            }
        }
    }

    /// <summary>Removes a pod; a slice left empty is deleted unless it is the Service's last slice (then it stays as placeholder).</summary>
    /// <param name="ip">The pod IP.</param>
    public void RemovePod(string ip)
    {
        lock (_store.Gate)
        {
            var pod = Require(ip);
            _pods.Remove(pod);
            pod.Slice.Ips.Remove(ip);
            Touch(pod.Slice);
            if (pod.Slice.Ips.Count == 0 && _slices.Count > 1)
            {
                _slices.Remove(pod.Slice);
            }

            Flush();
        }
    }

    /// <summary>Makes the pod set exactly <c>ipFor(0) .. ipFor(count - 1)</c> (new pods ready), as one batch.</summary>
    /// <param name="count">The number of pods.</param>
    /// <param name="ipFor">The IP of the pod with a given index.</param>
    public void ScaleTo(int count, Func<int, string> ipFor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(ipFor);
        var wanted = Enumerable.Range(0, count).Select(ipFor).ToList();
        Batch(s =>
        {
            foreach (var pod in s.Pods.Where(p => !wanted.Contains(p.Ip)))
            {
                s.RemovePod(pod.Ip);
            }

            var present = s.Pods.Select(p => p.Ip).ToHashSet();
            foreach (var ip in wanted.Where(ip => !present.Contains(ip)))
            {
                s.AddPod(ip);
            }
        });
    }

    /// <summary>
    /// Replaces the current pods by <paramref name="newIps"/> one by one like a Deployment rollout: the new pod is added
    /// ready, then one old pod becomes terminating (ready=false, serving=true), <paramref name="beforeRemoveOld"/> runs,
    /// and the old pod is removed. Old pods beyond the new count are retired the same way at the end.
    /// </summary>
    /// <param name="newIps">The IPs of the new pods.</param>
    /// <param name="beforeRemoveOld">Called with an old pod's IP while it is terminating; <see langword="null"/> to remove at once.</param>
    /// <returns>A task that completes when the rollout is done.</returns>
    public async Task RollingUpdateAsync(IReadOnlyList<string> newIps, Func<string, Task>? beforeRemoveOld = null)
    {
        ArgumentNullException.ThrowIfNull(newIps);
        var old = Pods.Select(p => p.Ip).Where(ip => !newIps.Contains(ip)).ToList();
        for (var i = 0; i < Math.Max(newIps.Count, old.Count); i++)
        {
            if (i < newIps.Count && Find(newIps[i]) is null)
            {
                AddPod(newIps[i]);
            }

            if (i < old.Count)
            {
                SetTerminating(old[i]);
                if (beforeRemoveOld is not null)
                {
                    await beforeRemoveOld(old[i]).ConfigureAwait(false);
                }

                RemovePod(old[i]);
            }
        }
    }

    /// <summary>
    /// Moves an endpoint to another slice of the Service (created with that exact name if missing), as the controller does
    /// when it rebalances. The target slice is written first, then the source: watchers briefly see the endpoint in both.
    /// </summary>
    /// <param name="ip">The pod IP.</param>
    /// <param name="toSliceName">The name of the target slice.</param>
    /// <exception cref="InvalidOperationException">The target slice is full or of another address family.</exception>
    public void MoveEndpoint(string ip, string toSliceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(toSliceName);
        lock (_store.Gate)
        {
            var pod = Require(ip);
            if (pod.Slice.Name == toSliceName)
            {
                return;
            }

            var target = _slices.FirstOrDefault(s => s.Name == toSliceName) ?? NewSlice(pod.Slice.Family, toSliceName);
            if (target.Family != pod.Slice.Family || target.Ips.Count >= _maxPerSlice)
            {
                throw new InvalidOperationException($"Slice {toSliceName} cannot take endpoint {ip} (family {target.Family}, {target.Ips.Count} endpoints).");
            }

            var source = pod.Slice;
            source.Ips.Remove(ip);
            target.Ips.Add(ip);
            pod.Slice = target;
            Touch(target);
            Touch(source);
            if (source.Ips.Count == 0)
            {
                _slices.Remove(source);
            }

            Flush();
        }
    }

    /// <summary>Runs several changes as one batch: each touched slice is written once, when the outermost batch ends.</summary>
    /// <param name="changes">The changes, applied to this service.</param>
    public void Batch(Action<EmulatedService> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_store.Gate)
        {
            _batchDepth++;
            try
            {
                changes(this);
            }
            finally
            {
                _batchDepth--;
                Flush();
            }
        }
    }

    /// <summary>Deletes every slice of the Service (used when the Service is removed).</summary>
    internal void DeleteAllSlices()
    {
        foreach (var s in _slices)
        {
            _store.Delete(Namespace, s.Name);
        }

        _slices.Clear();
        _pods.Clear();
    }

    private static string FamilyOf(string ip)
    {
        ArgumentException.ThrowIfNullOrEmpty(ip);
        if (!IPAddress.TryParse(ip, out var address))
        {
            throw new ArgumentException($"'{ip}' is not an IP address.", nameof(ip));
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
    }

    private static EmulatedPod Snapshot(PodState p) =>
        new(p.Ip, p.Name, p.Ready, p.Serving, p.Terminating, p.Zone, p.Node, p.Slice.Name);

    /// <summary>
    /// The hint the EndpointSlice controller gives an endpoint, as kubernetes/kubernetes
    /// staging/src/k8s.io/endpointslice/trafficdist/trafficdist.go (preferCloseHeuristic.update, defaultHeuristic) does:
    /// no trafficDistribution (or one it does not know) clears every hint; PreferClose, PreferSameZone and PreferSameNode
    /// give each ready endpoint a zone hint for its own zone if it has one, and PreferSameNode also a node hint for its
    /// own node if it has one; with neither, no hints. update() skips not-ready endpoints, and the controller rebuilds an
    /// endpoint without hints whenever its pod changes, so a not-ready endpoint carries none.
    /// </summary>
    private (string? Zone, string? Node)? HintOf(PodState p)
    {
        if (_trafficDistribution is null || !p.Ready || p.OmitHints)
        {
            return null;
        }

        var node = _trafficDistribution == PreferSameNode ? p.Node : null;
        return p.Zone is null && node is null ? null : (p.Zone, node);
    }

    private V1EndpointHints? RenderHints(PodState p) => HintOf(p) is { } hint
        ? new V1EndpointHints
        {
            ForZones = hint.Zone is null ? null : [new V1ForZone { Name = hint.Zone }],
            ForNodes = hint.Node is null ? null : [new V1ForNode { Name = hint.Node }],
        }
        : null;

    private PodState? Find(string ip) => _pods.Find(p => p.Ip == ip);

    private PodState Require(string ip) =>
        Find(ip) ?? throw new KeyNotFoundException($"Service {Namespace}/{Name} has no pod with IP {ip}.");

    private SliceState NewSlice(string family, string? name)
    {
        var slice = new SliceState(name ?? _names.Generate(Name + "-"), family);
        _slices.Add(slice);
        Touch(slice);
        return slice;
    }

    private void Touch(SliceState slice)
    {
        if (_dirty.Add(slice.Name))
        {
            _writeOrder.Add(slice.Name);
        }
    }

    /// <summary>Writes every dirty slice once, in the order first touched (deleted ones as DELETE), unless inside a batch.</summary>
    private void Flush()
    {
        if (_batchDepth > 0)
        {
            return;
        }

        foreach (var name in _writeOrder)
        {
            var slice = _slices.Find(s => s.Name == name);
            if (slice is null)
            {
                _store.Delete(Namespace, name);
            }
            else
            {
                _store.Put(Render(slice));
            }
        }

        _writeOrder.Clear();
        _dirty.Clear();
    }

    private V1EndpointSlice Render(SliceState slice) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            Name = slice.Name,
            NamespaceProperty = Namespace,
            GenerateName = Name + "-",
            Labels = new Dictionary<string, string>
            {
                ["kubernetes.io/service-name"] = Name,
                ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io",
            },
            OwnerReferences =
            [
                new V1OwnerReference
                {
                    ApiVersion = "v1",
                    Kind = "Service",
                    Name = Name,
                    Uid = Uid,
                    Controller = true,
                    BlockOwnerDeletion = true,
                },
            ],
        },
        AddressType = slice.Family,
        Endpoints = [.. slice.Ips.Select(ip => Find(ip)!).Select(p => new V1Endpoint
        {
            Addresses = [p.Ip],
            Conditions = new V1EndpointConditions { Ready = p.Ready, Serving = p.Serving, Terminating = p.Terminating },
            Hints = RenderHints(p),
            NodeName = p.Node,
            Zone = p.Zone,
            TargetRef = new V1ObjectReference { Kind = "Pod", NamespaceProperty = Namespace, Name = p.Name, Uid = p.Uid },
        })],
        // As the EndpointSlice controller: a slice without endpoints (its placeholder) lists no ports.
        Ports = slice.Ips.Count == 0 ? [] : [.. Ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Port = p.Number, Protocol = p.Protocol })],
    };

    private sealed class PodState(string ip, string name, SliceState slice)
    {
        public string Ip { get; } = ip;

        public string Name { get; } = name;

        public string Uid { get; } = Guid.NewGuid().ToString();

        public SliceState Slice { get; set; } = slice;

        public bool Ready { get; set; }

        public bool Serving { get; set; }

        public bool Terminating { get; set; }

        public string? Zone { get; init; }

        public string? Node { get; init; }

        public bool OmitHints { get; set; }
    }

    private sealed class SliceState(string name, string family)
    {
        public string Name { get; } = name;

        public string Family { get; } = family;

        public List<string> Ips { get; } = [];
    }
}
