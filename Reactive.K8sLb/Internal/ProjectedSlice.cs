using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// What one EndpointSlice contributes: its family, the ready endpoints, and the serving-and-terminating ones used as
/// a fallback. A slice of an unknown address type or without the named port contributes nothing.
/// </summary>
internal sealed class ProjectedSlice(SliceFamily? family, EndPoint[] ready, EndPoint[] fallback, bool hasPort = true)
{
    public static ProjectedSlice None { get; } = new(null, [], [], hasPort: false);

    /// <summary>Null when the slice's address type is unknown (it counts towards no family).</summary>
    public SliceFamily? Family { get; } = family;

    public EndPoint[] Ready { get; } = ready;

    public EndPoint[] Fallback { get; } = fallback;

    /// <summary>Whether the slice defines the port asked for (always, for a port given by number).</summary>
    public bool HasPort { get; } = hasPort;
}
