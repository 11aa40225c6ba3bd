namespace Reactive.K8sLb.Testing;

/// <summary>A port of an emulated Service, copied into every EndpointSlice of the Service.</summary>
/// <param name="Name">The port name (may be empty for a single unnamed port).</param>
/// <param name="Number">The port number.</param>
/// <param name="Protocol">The protocol, <c>TCP</c> by default.</param>
public readonly record struct EmulatedServicePort(string Name, int Number, string Protocol = "TCP");
