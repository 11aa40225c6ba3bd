namespace Reactive.K8sLb.Testing;

/// <summary>An immutable snapshot of one pod backing an <see cref="EmulatedService"/>.</summary>
/// <param name="Ip">The pod IP (IPv4 or IPv6).</param>
/// <param name="Name">The pod name, used in the endpoint's targetRef.</param>
/// <param name="Ready">The endpoint's ready condition.</param>
/// <param name="Serving">The endpoint's serving condition.</param>
/// <param name="Terminating">The endpoint's terminating condition.</param>
/// <param name="Zone">The endpoint's zone, or <see langword="null"/>.</param>
/// <param name="Node">The endpoint's nodeName, or <see langword="null"/>.</param>
/// <param name="SliceName">The name of the EndpointSlice that currently holds the endpoint.</param>
public sealed record EmulatedPod(
    string Ip,
    string Name,
    bool Ready,
    bool Serving,
    bool Terminating,
    string? Zone,
    string? Node,
    string SliceName);
