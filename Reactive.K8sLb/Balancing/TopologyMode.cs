namespace Reactive.K8sLb;

/// <summary>How a balancer takes the topology (zones and nodes) of the client and of the endpoints into account. Set
/// through <see cref="TopologyOptions.Mode"/>.</summary>
public enum TopologyMode
{
    /// <summary>
    /// kube-proxy's rules for Cluster traffic (kubernetes/kubernetes <c>pkg/proxy/topology.go</c>), the default: the
    /// EndpointSlice controller writes hints (<c>hints.forNodes</c>, <c>hints.forZones</c>) from the Service's
    /// <c>trafficDistribution</c>; when every ready endpoint has a node hint and some are for the client's node, only
    /// those are used; else when every ready endpoint has a zone hint and some are for the client's zone, only those;
    /// else all. With no hints, or an unknown client zone, nothing changes. Unlike kube-proxy, the library also sends
    /// calls to the other endpoints while no local one is connected, every one is excluded (ejected, not serving), or
    /// for the share a partly excluded local set cannot take (<c>1 - 1.4 × usable share</c>, Envoy's overprovisioning).
    /// </summary>
    Hints,

    /// <summary>
    /// Same-zone first, without hints: calls go to the endpoints whose <c>zone</c> is the client's while they are
    /// enough to take the zone's share of the calls, and the rest spill over to the other zones in proportion (see
    /// <see cref="TopologyOptions.MinLocalShare"/>); when every local endpoint is excluded (ejected, not serving) or
    /// unreachable, all calls go to the others.
    /// </summary>
    PreferLocal,

    /// <summary>Topology is ignored: every endpoint is used, as before version 1.1.</summary>
    Off,
}
