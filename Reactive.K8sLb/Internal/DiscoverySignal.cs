namespace Reactive.K8sLb.Internal;

/// <summary>What a discovery source reports: a slice event, or a change of its health.</summary>
internal sealed class DiscoverySignal
{
    private DiscoverySignal(SliceEvent? sliceEvent, DiscoveryHealth health, string? message, Exception? error, string? @namespace = null, bool resetsBackoff = false)
    {
        ResetsBackoff = resetsBackoff;
        SliceEvent = sliceEvent;
        Namespace = @namespace;
        Health = health;
        Message = message;
        Error = error;
    }

    public SliceEvent? SliceEvent { get; }

    /// <summary>The namespace actually watched (known once the client exists), for status messages; else null.</summary>
    public string? Namespace { get; }

    public DiscoveryHealth Health { get; }

    public string? Message { get; }

    public Exception? Error { get; }

    /// <summary>
    /// Whether this signal proves the watch healthy enough to start the retry delays over: an established watch
    /// delivered its first event or bookmark (as client-go's reflector resets its backoff). Response headers alone do not.
    /// </summary>
    public bool ResetsBackoff { get; }

    // Two overloads, not an optional parameter: the one-argument form is used as a method group (Select(Slice)).
    public static DiscoverySignal Slice(SliceEvent sliceEvent) => new(sliceEvent, DiscoveryHealth.Healthy, null, null);

    public static DiscoverySignal Slice(SliceEvent sliceEvent, string? @namespace) => new(sliceEvent, DiscoveryHealth.Healthy, null, null, @namespace);

    public static DiscoverySignal Healthy { get; } = new(null, DiscoveryHealth.Healthy, null, null);

    /// <summary>Healthy, and the watch delivered its first event or bookmark (<see cref="ResetsBackoff"/>).</summary>
    public static DiscoverySignal WatchDelivering { get; } = new(null, DiscoveryHealth.Healthy, null, null, resetsBackoff: true);

    public static DiscoverySignal Failing(string message, Exception error) => new(null, DiscoveryHealth.Failing, message, error);
}
