namespace Reactive.K8sLb.Internal;

/// <summary>
/// What one EndpointSlice contributes: its family, the ready endpoints, the serving-and-terminating ones used as a
/// fallback, and (for the endpoint gauges) the endpoints it lists that cannot be used. A slice of an unknown address
/// type or without the named port contributes no usable endpoint.
/// </summary>
internal sealed class ProjectedSlice(SliceFamily? family, KubernetesEndpoint[] ready, KubernetesEndpoint[] fallback, bool hasPort = true, KubernetesEndpoint[]? notReady = null, string[]? unusable = null)
{
    public static ProjectedSlice None { get; } = new(null, [], [], hasPort: false);

    /// <summary>Null when the slice's address type is unknown (it counts towards no family).</summary>
    public SliceFamily? Family { get; } = family;

    public KubernetesEndpoint[] Ready { get; } = ready;

    public KubernetesEndpoint[] Fallback { get; } = fallback;

    /// <summary>Endpoints neither ready nor serving-and-terminating (never used).</summary>
    public KubernetesEndpoint[] NotReady { get; } = notReady ?? [];

    /// <summary>
    /// The endpoints without a usable address, by their first address text: every endpoint of a slice of an unknown
    /// address type (<see cref="Family"/> null) or without the named port (<see cref="HasPort"/> false), otherwise
    /// those none of whose addresses parses.
    /// </summary>
    public string[] Unusable { get; } = unusable ?? [];

    /// <summary>Whether the slice defines the port asked for (always, for a port given by number).</summary>
    public bool HasPort { get; } = hasPort;
}
