namespace Greeter.Server;

/// <summary>The name this server reports in every reply: the pod name, or host:port outside Kubernetes.</summary>
internal sealed record PodIdentity(string Name);
