namespace Reactive.K8sLb.Internal;

/// <summary>Why the library's resolver has no address set to route to.</summary>
internal enum AddressSetUnavailableReason
{
    /// <summary>Discovery has not delivered its first snapshot yet: calls may wait (bounded by their deadline).</summary>
    WaitingForFirstSnapshot,

    /// <summary>No first snapshot within the resolver's wait: calls fail until one arrives.</summary>
    FirstSnapshotOverdue,

    /// <summary>Discovery fails and never synchronized.</summary>
    DiscoveryFailing,

    /// <summary>Synchronized, and the set is empty (no ready endpoint).</summary>
    NoEndpoints,

    /// <summary>The resolver (its channel) was disposed.</summary>
    Disposed,
}

/// <summary>
/// Travels as the <see cref="Grpc.Core.Status.DebugException"/> of a resolver failure so the library's balancer can
/// tell its own resolver's authoritative "nothing to route to" apart from another resolver's transient error (which
/// must not tear down working connections). Callers see it on <c>RpcException.Status.DebugException</c>; its inner
/// exception is the discovery error, when there is one.
/// </summary>
internal sealed class AddressSetUnavailableException : Exception
{
    public AddressSetUnavailableException(AddressSetUnavailableReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public AddressSetUnavailableReason Reason { get; }

    /// <summary>Whether calls should wait for a later result rather than fail now.</summary>
    public bool CallsShouldWait => Reason == AddressSetUnavailableReason.WaitingForFirstSnapshot;
}
