namespace Reactive.K8sLb;

/// <summary>Which endpoints of a Service receive traffic.</summary>
public enum ReadinessPolicy
{
    /// <summary>
    /// Ready endpoints; when the whole Service has none, endpoints that are serving and terminating (kube-proxy's
    /// behaviour since Kubernetes 1.26, so a Service mid-rollout keeps answering). This is the default.
    /// </summary>
    ReadyWithTerminatingFallback = 0,

    /// <summary>Ready endpoints only; a Service without ready endpoints has an empty set.</summary>
    ReadyOnly = 1,
}
