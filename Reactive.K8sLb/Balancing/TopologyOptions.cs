using k8s;

namespace Reactive.K8sLb;

/// <summary>
/// Zone- and node-aware routing of the library's balancing policies: where the client runs (<see cref="Zone"/>,
/// <see cref="NodeName"/>, by default from the environment a Pod gets through the Downward API) and how that narrows
/// the endpoints calls go to (<see cref="Mode"/>). Set through <see cref="BalancingPolicyConfig.Topology"/>.
/// <para>The endpoints' side comes from their EndpointSlices: <c>zone</c>, <c>nodeName</c> and the hints the
/// EndpointSlice controller writes for a Service with <c>trafficDistribution</c> (<c>PreferSameZone</c>,
/// <c>PreferSameNode</c>, or the older <c>PreferClose</c>). Every change of the endpoint set is judged again from
/// scratch. Per endpoint, <c>k8slb.endpoint.picks</c> and <c>k8slb.endpoint.calls</c> carry <c>k8slb.locality</c>
/// (<c>same_zone</c>, <c>other_zone</c>, <c>unknown</c>), and a log line says when and why routing switches between
/// local and all endpoints.</para>
/// </summary>
/// <example>
/// The client's Pod spec, so that the defaults find the zone and the node:
/// <code>
/// env:
///   - name: K8SLB_ZONE
///     valueFrom: { fieldRef: { fieldPath: "metadata.labels['topology.kubernetes.io/zone']" } }
///   - name: K8SLB_NODE_NAME
///     valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
/// </code>
/// </example>
public sealed class TopologyOptions
{
    /// <summary>The environment variable <see cref="Zone"/> defaults to: <c>K8SLB_ZONE</c>, set from the Pod's
    /// <c>topology.kubernetes.io/zone</c> label through the Downward API (the PodTopologyLabels admission plugin puts
    /// the label on Pods; beta and on by default in Kubernetes 1.35).</summary>
    public const string ZoneVariable = "K8SLB_ZONE";

    /// <summary>The environment variable <see cref="NodeName"/> defaults to: <c>K8SLB_NODE_NAME</c>, set from
    /// <c>spec.nodeName</c> through the Downward API.</summary>
    public const string NodeNameVariable = "K8SLB_NODE_NAME";

    /// <summary>The label of a Node (and, with PodTopologyLabels, of a Pod) that names its zone.</summary>
    public const string ZoneLabel = "topology.kubernetes.io/zone";

    private double? _minLocalShare;

    /// <summary>How topology narrows the endpoints. The default value is <see cref="TopologyMode.Hints"/>
    /// (kube-proxy's rules).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="TopologyMode"/>.</exception>
    public TopologyMode Mode
    {
        get;
        set => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Mode), value, "Mode must be Hints, PreferLocal or Off.");
    }

    /// <summary>The client's zone. The default value is <see langword="null"/>: the value of <see cref="ZoneVariable"/>
    /// when the options are applied; unknown when that is unset or empty, and then topology is ignored (as kube-proxy
    /// does on a node without a zone label). <see cref="ZoneOfNodeAsync"/> reads it from the client's Node instead.</summary>
    public string? Zone { get; set; }

    /// <summary>The client's node. The default value is <see langword="null"/>: the value of
    /// <see cref="NodeNameVariable"/> when the options are applied; unknown when that is unset or empty, and then node
    /// hints are ignored.</summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// <see cref="TopologyMode.PreferLocal"/> only: the share of the connected endpoints the client's zone must hold for
    /// all its calls to stay local (endpoints without a zone label do not count as a zone). Below it, the local endpoints receive <c>localShare / MinLocalShare</c> of the calls and
    /// the others the rest, round robin. The default value is <see langword="null"/>: one over the number of zones with
    /// connected endpoints, which is the zone's fair share when clients are spread evenly over the zones. Example: 1 pod in
    /// zone a and 4 in each of b and c: zone a holds 1/9 of the endpoints, its fair share is 1/3, so its clients send 1/3
    /// of their calls to its pod and 2/3 to the 8 others, and every pod ends up with the same load.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not greater than 0 and at most 1.</exception>
    public double? MinLocalShare
    {
        get => _minLocalShare;
        set => _minLocalShare = value is null or (> 0 and <= 1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MinLocalShare), value, "MinLocalShare must be greater than 0 and at most 1, or null for one over the number of zones.");
    }

    /// <summary>
    /// Reads a Node's zone (its <see cref="ZoneLabel"/> label), for clusters where Pods do not carry it: assign the
    /// result to <see cref="Zone"/>. Needs <c>get</c> on <c>nodes</c> (a ClusterRole; see <c>deploy/rbac-nodes.yaml</c>),
    /// which is why it is not done by default.
    /// </summary>
    /// <param name="client">The Kubernetes client.</param>
    /// <param name="nodeName">The Node; <see langword="null"/> for the value of <see cref="NodeNameVariable"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The zone, or <see langword="null"/> when the Node has no zone label.</returns>
    /// <exception cref="ArgumentException">No node name is given and <see cref="NodeNameVariable"/> is unset.</exception>
    /// <exception cref="k8s.Autorest.HttpOperationException">The API server refused (403 without the RBAC, 404 for an unknown Node).</exception>
    public static async Task<string?> ZoneOfNodeAsync(IKubernetes client, string? nodeName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        nodeName ??= Environment.GetEnvironmentVariable(NodeNameVariable);
        if (string.IsNullOrEmpty(nodeName))
        {
            throw new ArgumentException($"No node name: pass nodeName or set {NodeNameVariable} from spec.nodeName through the Downward API.", nameof(nodeName));
        }

        var node = await client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
        return node.Metadata?.Labels is { } labels && labels.TryGetValue(ZoneLabel, out var zone) && !string.IsNullOrEmpty(zone) ? zone : null;
    }
}
