using System.Net;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>The <see cref="EndPoint"/> view of metadata changes, as <see cref="DiscoveryUpdate.Changes"/> gives it.</summary>
internal static class EndpointChangeExtensions
{
    /// <summary>Inserts and removes of the bare endpoints (updates of metadata dropped).</summary>
    public static IReadOnlyList<Change<EndPoint>> AsEndPointChanges(this IReadOnlyList<Change<KubernetesEndpoint>> changes) =>
        [.. changes.Where(c => c.Kind != ChangeKind.Update).Select(c => new Change<EndPoint>(c.Kind, c.Item.EndPoint))];
}
