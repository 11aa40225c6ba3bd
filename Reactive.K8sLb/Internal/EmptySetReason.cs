namespace Reactive.K8sLb.Internal;

/// <summary>Why a synchronized endpoint set is empty.</summary>
internal enum EmptySetReason
{
    /// <summary>The Service has no EndpointSlice at all (no such Service, or one without a selector or pods).</summary>
    NoSlices,

    /// <summary>No slice of the address families in use defines the named port.</summary>
    PortNotFound,

    /// <summary>Slices define the port, but no endpoint is ready (nor serving and terminating, with the fallback).</summary>
    NoReadyEndpoints,
}
