using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// Which Service a channel's addresses come from. The resolver attaches it to every result it publishes
/// (<see cref="ResolverResult.Attributes"/>, which reach the balancer as <see cref="ChannelState.Attributes"/>), so the
/// balancer can tag its per-endpoint metrics and log scope without knowing anything about discovery.
/// </summary>
internal sealed record ServiceIdentity(string Service, string? Namespace)
{
    public static BalancerAttributesKey<ServiceIdentity> AttributeKey { get; } = new("Reactive.K8sLb.ServiceIdentity");
}
