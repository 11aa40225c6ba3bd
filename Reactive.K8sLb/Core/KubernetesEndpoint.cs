using System.Net;
using System.Text;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb;

/// <summary>
/// An endpoint of a Service as its EndpointSlice describes it: the <see cref="System.Net.EndPoint"/> to connect to (its
/// identity) and what the slice says about it (pod, node, zone, conditions, topology hints). Immutable; two instances
/// are equal when every property is equal (the hint lists element by element).
/// </summary>
/// <remarks>
/// Discovery gives one to the <c>build</c> overloads taking a <see cref="KubernetesEndpoint"/>, reports it in
/// <see cref="DiscoveryUpdate.EndpointChanges"/>, and puts it in the attributes of every balancer address it builds,
/// under <see cref="AttributeKey"/>. A change of the metadata while the endpoint stays in the set is a
/// <see cref="ChangeKind.Update"/> of the same endpoint: the channel keeps its connection. An endpoint listed in
/// several slices at once (briefly, while the EndpointSlice controller moves it) takes its metadata from the slice
/// where its conditions are best (ready, then serving and terminating, then neither), the first of those by slice name
/// in ordinal order.
/// </remarks>
public sealed class KubernetesEndpoint : IEquatable<KubernetesEndpoint>
{
    private readonly IReadOnlyList<string> _zoneHints = [];
    private readonly IReadOnlyList<string> _nodeHints = [];

    /// <summary>Creates an endpoint with no metadata: ready, serving, not terminating, every other property empty.</summary>
    /// <param name="endPoint">The address and port to connect to.</param>
    /// <exception cref="ArgumentNullException"><paramref name="endPoint"/> is <see langword="null"/>.</exception>
    public KubernetesEndpoint(EndPoint endPoint)
    {
        EndPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
    }

    /// <summary>The key under which discovery puts the endpoint into a <see cref="BalancerAddress"/>'s attributes
    /// (unless the <c>build</c> function already set it): <c>address.Attributes.TryGetValue(KubernetesEndpoint.AttributeKey, out var endpoint)</c>.</summary>
    public static BalancerAttributesKey<KubernetesEndpoint> AttributeKey { get; } = new("Reactive.K8sLb.KubernetesEndpoint");

    /// <summary>The address and port to connect to: the endpoint's identity (an <see cref="IPEndPoint"/>, or a
    /// <see cref="DnsEndPoint"/> for an FQDN slice).</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The pod's name, from <c>targetRef</c> when its kind is <c>Pod</c>; else <see langword="null"/>.</summary>
    public string? PodName { get; init; }

    /// <summary>The pod's namespace, from <c>targetRef</c> when its kind is <c>Pod</c>; else <see langword="null"/>.</summary>
    public string? PodNamespace { get; init; }

    /// <summary>The node hosting the endpoint (<c>nodeName</c>), or <see langword="null"/>.</summary>
    public string? NodeName { get; init; }

    /// <summary>The zone the endpoint is in (<c>zone</c>), or <see langword="null"/>.</summary>
    public string? Zone { get; init; }

    /// <summary>The endpoint's <c>hostname</c>, or <see langword="null"/>.</summary>
    public string? Hostname { get; init; }

    /// <summary>The name of the EndpointSlice it comes from, or <see langword="null"/>.</summary>
    public string? SliceName { get; init; }

    /// <summary>Whether the endpoint is ready (<c>conditions.ready</c>; <see langword="null"/> there means ready).
    /// The default value is <see langword="true"/>.</summary>
    public bool Ready { get; init; } = true;

    /// <summary>Whether the endpoint is serving (<c>conditions.serving</c>; <see langword="null"/> there defers to
    /// <see cref="Ready"/>). The default value is <see langword="true"/>.</summary>
    public bool Serving { get; init; } = true;

    /// <summary>Whether the endpoint is terminating (<c>conditions.terminating</c>; <see langword="null"/> there means
    /// not terminating). The default value is <see langword="false"/>.</summary>
    public bool Terminating { get; init; }

    /// <summary>The zones this endpoint should serve (<c>hints.forZones[].name</c>); empty when there are none.</summary>
    public IReadOnlyList<string> ZoneHints
    {
        get => _zoneHints;
        init => _zoneHints = Copy(value);
    }

    /// <summary>The nodes this endpoint should serve (<c>hints.forNodes[].name</c>); empty when there are none.</summary>
    public IReadOnlyList<string> NodeHints
    {
        get => _nodeHints;
        init => _nodeHints = Copy(value);
    }

    /// <summary>Whether two endpoints are equal (every property).</summary>
    /// <param name="left">The first endpoint.</param>
    /// <param name="right">The second endpoint.</param>
    /// <returns><see langword="true"/> when both are <see langword="null"/> or equal.</returns>
    public static bool operator ==(KubernetesEndpoint? left, KubernetesEndpoint? right) => Equals(left, right);

    /// <summary>Whether two endpoints differ.</summary>
    /// <param name="left">The first endpoint.</param>
    /// <param name="right">The second endpoint.</param>
    /// <returns><see langword="true"/> when they are not equal.</returns>
    public static bool operator !=(KubernetesEndpoint? left, KubernetesEndpoint? right) => !Equals(left, right);

    /// <inheritdoc />
    public bool Equals(KubernetesEndpoint? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (EndPoint.Equals(other.EndPoint)
                && PodName == other.PodName
                && PodNamespace == other.PodNamespace
                && NodeName == other.NodeName
                && Zone == other.Zone
                && Hostname == other.Hostname
                && SliceName == other.SliceName
                && Ready == other.Ready
                && Serving == other.Serving
                && Terminating == other.Terminating
                && _zoneHints.SequenceEqual(other._zoneHints, StringComparer.Ordinal)
                && _nodeHints.SequenceEqual(other._nodeHints, StringComparer.Ordinal)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as KubernetesEndpoint);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(EndPoint);
        hash.Add(PodName);
        hash.Add(PodNamespace);
        hash.Add(NodeName);
        hash.Add(Zone);
        hash.Add(Hostname);
        hash.Add(SliceName);
        hash.Add(Ready);
        hash.Add(Serving);
        hash.Add(Terminating);
        foreach (var zone in _zoneHints) hash.Add(zone);
        foreach (var node in _nodeHints) hash.Add(node);
        return hash.ToHashCode();
    }

    /// <summary>Returns a readable form such as <c>10.0.0.1:8080 (pod default/greeter-1, zone a, ready)</c>.</summary>
    /// <returns>The endpoint and its metadata.</returns>
    public override string ToString()
    {
        var text = new StringBuilder().Append(EndPoint).Append(" (");
        if (PodName is not null) text.Append("pod ").Append(PodNamespace is null ? "" : PodNamespace + "/").Append(PodName).Append(", ");
        if (NodeName is not null) text.Append("node ").Append(NodeName).Append(", ");
        if (Zone is not null) text.Append("zone ").Append(Zone).Append(", ");
        text.Append(Ready ? "ready" : Serving && Terminating ? "serving, terminating" : "not ready");
        return text.Append(')').ToString();
    }

    /// <summary>Identity of endpoints: equal when their <see cref="EndPoint"/>s are, whatever their metadata.</summary>
    internal static IEqualityComparer<KubernetesEndpoint> ByEndPoint { get; } = new EndPointComparer();

    private static string[] Copy(IReadOnlyList<string>? values) => values is null or { Count: 0 } ? [] : [.. values];

    private sealed class EndPointComparer : IEqualityComparer<KubernetesEndpoint>
    {
        public bool Equals(KubernetesEndpoint? x, KubernetesEndpoint? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.EndPoint.Equals(y.EndPoint));

        public int GetHashCode(KubernetesEndpoint obj) => obj.EndPoint.GetHashCode();
    }
}
