namespace Reactive.K8sLb.Testing;

/// <summary>
/// How a <see cref="KubernetesApiEmulator"/> answers a streaming list: a WATCH with <c>sendInitialEvents=true</c>
/// (Kubernetes' WatchList, KEP-3157), which sends the current state as ADDED events and then a BOOKMARK annotated
/// <c>k8s.io/initial-events-end: "true"</c> instead of a LIST.
/// </summary>
public enum StreamingListSupport
{
    /// <summary>
    /// As an API server with the WatchList feature enabled: <c>sendInitialEvents=true</c> requires
    /// <c>resourceVersionMatch=NotOlderThan</c> and <c>allowWatchBookmarks=true</c> (else 422 Invalid); the watch sends
    /// the current state, the initial-events-end bookmark, then every later change.
    /// </summary>
    Supported = 0,

    /// <summary>
    /// As an API server with the WatchList feature gate disabled: a WATCH that sets <c>sendInitialEvents</c> is answered
    /// 422 Invalid (<c>sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled</c>).
    /// </summary>
    Rejected = 1,

    /// <summary>
    /// As a proxy or an API implementation that does not know the parameters: <c>sendInitialEvents</c> and
    /// <c>resourceVersionMatch</c> are ignored, so a watch without a resourceVersion sends the current state as ADDED
    /// events, then plain bookmarks, and never the initial-events-end bookmark. (kube-apiserver itself has answered
    /// <c>resourceVersionMatch</c> on a watch with 422 since 1.19.)
    /// </summary>
    Ignored = 2,
}
