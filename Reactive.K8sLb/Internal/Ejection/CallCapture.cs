namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Tells the picker that the call being started is watched to its end by <see cref="OutcomeCallInvoker"/>, and tells
/// the invoker which endpoint the picker chose. grpc-dotnet picks synchronously, on the thread that starts the call,
/// once the channel has a ready picker (the resolver has resolved, the picker is not queueing): so a thread-static slot
/// set around the start of the call connects the two without allocating. A pick that happens later, on another thread
/// (the first calls of a channel, calls queued while connecting), is not claimed: its endpoint's call tracker counts
/// the outcome as far as grpc-dotnet shows it (transport errors).
/// </summary>
internal static class CallCapture
{
    [ThreadStatic]
    private static bool t_active;

    [ThreadStatic]
    private static EndpointHealth? t_picked;

    /// <summary>Marks the start of a watched call on this thread; returns the previous mark (for <see cref="End"/>).</summary>
    public static bool Begin()
    {
        var outer = t_active;
        t_active = true;
        t_picked = null;
        return outer;
    }

    /// <summary>Ends the mark; returns the endpoint picked for the call, or <see langword="null"/> if the pick did not
    /// happen synchronously.</summary>
    public static EndpointHealth? End(bool outer)
    {
        var picked = t_picked;
        t_picked = null;
        t_active = outer;
        return picked;
    }

    /// <summary>Called by the picker: claims the call's outcome for <paramref name="endpoint"/> when a watched call
    /// is being started on this thread and nothing claimed it yet.</summary>
    public static bool TryClaim(EndpointHealth endpoint)
    {
        if (!t_active || t_picked is not null) return false;
        t_picked = endpoint;
        return true;
    }
}
