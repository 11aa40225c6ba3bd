using System.Runtime.CompilerServices;
using k8s;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Remembers which Kubernetes clients talk to an API server that does not support streaming lists, so that the
/// answer is learned once per client (with shared watches, once per API server identity in the process) and not paid
/// for on every relist. Weak: the memory goes with the client.
/// </summary>
internal static class StreamingListMemory
{
    private static readonly ConditionalWeakTable<IKubernetes, object> Unsupported = new();
    private static readonly object Marker = new();

    public static bool IsUnsupported(IKubernetes client) => Unsupported.TryGetValue(client, out _);

    public static void MarkUnsupported(IKubernetes client) => Unsupported.AddOrUpdate(client, Marker);
}
