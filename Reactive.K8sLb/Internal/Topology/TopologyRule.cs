namespace Reactive.K8sLb.Internal.Topology;

/// <summary>
/// Which rule of kube-proxy's topology selection (kubernetes/kubernetes <c>pkg/proxy/topology.go</c>) chose the
/// endpoints, so that a log line can say why routing is local or not. The first two narrow the set; every other value
/// means the topology was ignored and names the reason.
/// </summary>
internal enum TopologyRule
{
    /// <summary>Every ready endpoint has a node hint and some are hinted for the client's node: only those
    /// (kube-proxy's <c>PreferSameNode</c> mode, from <c>hints.forNodes</c>).</summary>
    Node,

    /// <summary>Every ready endpoint has a zone hint and some are hinted for the client's zone: only those
    /// (kube-proxy's <c>PreferSameZone</c> mode, from <c>hints.forZones</c>).</summary>
    Zone,

    /// <summary>No ready endpoint carries a zone hint (a Service without <c>trafficDistribution</c> or
    /// topology-aware routing): every ready endpoint.</summary>
    All,

    /// <summary>Some ready endpoints carry zone hints but at least one does not (the controller is half-way, or fell
    /// back): every ready endpoint.</summary>
    MissingHints,

    /// <summary>Every ready endpoint has a zone hint, but the client's zone is unknown: every ready endpoint.</summary>
    UnknownZone,

    /// <summary>Every ready endpoint has a zone hint, but none is hinted for the client's zone: every ready
    /// endpoint.</summary>
    NoLocalEndpoints,

    /// <summary>No endpoint is ready: the serving and terminating ones, whatever their hints (the fallback ignores
    /// topology).</summary>
    ServingTerminating,

    /// <summary>No endpoint is ready, nor serving and terminating: nothing to use.</summary>
    NoEndpoints,
}
