namespace Reactive.K8sLb;

/// <summary>The state of a discovery subscription, delivered in band with its changes.</summary>
/// <param name="Health">Whether the source is connecting, healthy or failing.</param>
/// <param name="IsSynchronized">Whether a first complete snapshot has been applied (it stays <see langword="true"/>
/// while failing: the last known set is still in force). Becomes <see langword="true"/> even when that snapshot is
/// empty and so produced no change.</param>
/// <param name="Message">What is wrong, for people: why discovery is failing (e.g. the API's 403 text and an RBAC hint,
/// a watch that stalled), or, when synchronized with an empty set, why it is empty ("no ready endpoints for Service
/// ns/name", "port 'grpc' not found in any EndpointSlice of Service ns/name", "no EndpointSlices for Service ns/name:
/// ..."); else <see langword="null"/>. A channel fed by this source fails its calls with this text.</param>
/// <param name="Error">The failure, when failing; else <see langword="null"/>.</param>
public sealed record DiscoveryStatus(DiscoveryHealth Health, bool IsSynchronized, string? Message = null, Exception? Error = null)
{
    /// <summary>The status before anything happened: connecting, not synchronized.</summary>
    public static DiscoveryStatus Connecting { get; } = new(DiscoveryHealth.Connecting, false);

    /// <summary>Returns the health, the synchronisation flag and the message.</summary>
    /// <returns>A readable description.</returns>
    public override string ToString() =>
        $"{Health}{(IsSynchronized ? ", synchronized" : string.Empty)}{(Message is null ? string.Empty : ": " + Message)}";
}
