namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Tells the invoker (<see cref="OutcomeCallInvoker"/>, <see cref="OutlierDetectionInterceptor"/>) which endpoint
/// served the call it is starting. grpc-dotnet starts a call's HTTP request synchronously on the calling thread and,
/// once the channel has a ready picker, picks and calls the chosen pick's <c>ISubchannelCallTracker.Start</c> there
/// too, once, for the pick it really uses (a pick whose subchannel turned out not to be usable is picked again, and only
/// the last one is started). So the tracker's <c>Start</c> claims the call through a thread-static slot that the invoker
/// opened around the start of the call: no allocation. The last claim wins, and a nested window (a call started while
/// another is being started: call credentials, handlers) saves and restores the outer one. A call started later, on
/// another thread (the first calls of a channel, calls queued while connecting), is not claimed: the call tracker then
/// counts what grpc-dotnet shows it (transport errors).
/// </summary>
internal static class CallCapture
{
    [ThreadStatic]
    private static bool t_active;

    [ThreadStatic]
    private static EndpointHealth? t_picked;

    /// <summary>Opens a window for a watched call on this thread; returns the outer window (for <see cref="End"/>).</summary>
    public static Window Begin()
    {
        var outer = new Window(t_active, t_picked);
        t_active = true;
        t_picked = null;
        return outer;
    }

    /// <summary>Closes the window and restores <paramref name="outer"/>; returns the endpoint that claimed the call, or
    /// <see langword="null"/> if its pick did not happen synchronously.</summary>
    public static EndpointHealth? End(Window outer)
    {
        var picked = t_picked;
        t_active = outer.Active;
        t_picked = outer.Picked;
        return picked;
    }

    /// <summary>Called when a call starts on <paramref name="endpoint"/> (its tracker's <c>Start</c>): claims the call's
    /// outcome when a watched call is being started on this thread. The last claim wins.</summary>
    public static bool TryClaim(EndpointHealth endpoint)
    {
        if (!t_active) return false;
        t_picked = endpoint;
        return true;
    }

    /// <summary>The state of the window around a call start.</summary>
    internal readonly record struct Window(bool Active, EndpointHealth? Picked);
}
