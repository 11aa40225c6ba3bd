using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// What one EndpointSlice contributes: its family, the ready endpoints, and the serving-and-terminating ones used as
/// a fallback. A slice of an unknown address type or without the named port contributes nothing.
/// </summary>
internal sealed class ProjectedSlice(SliceFamily? family, EndPoint[] ready, EndPoint[] fallback)
{
    public static ProjectedSlice None { get; } = new(null, [], []);

    /// <summary>Null when the slice's address type is unknown (it counts towards no family).</summary>
    public SliceFamily? Family { get; } = family;

    public EndPoint[] Ready { get; } = ready;

    public EndPoint[] Fallback { get; } = fallback;
}
