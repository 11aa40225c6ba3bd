namespace Reactive.K8sLb.Testing;

/// <summary>Settings of a <see cref="KubernetesApiEmulator"/>.</summary>
public sealed class KubernetesApiEmulatorOptions
{
    /// <summary>Gets or sets the namespace put in <see cref="KubernetesApiEmulator.ClientConfiguration"/>.</summary>
    /// <value>The default value is <c>default</c>.</value>
    public string DefaultNamespace { get; set; } = "default";

    /// <summary>Gets or sets the largest number of endpoints the emulated controller puts in one EndpointSlice.</summary>
    /// <value>The default value is 100 (the real controller's default).</value>
    public int MaxEndpointsPerSlice { get; set; } = 100;

    /// <summary>Gets or sets how many watch events are retained for watches that resume from a resourceVersion.</summary>
    /// <value>The default value is 1000.</value>
    public int HistoryLimit { get; set; } = 1000;

    /// <summary>
    /// Gets or sets how many requests <see cref="KubernetesApiEmulator.Requests"/> keeps: the most recent ones, the oldest
    /// dropped first, so a long-running emulator does not grow without bound.
    /// </summary>
    /// <value>The default value is 10,000. Must be positive.</value>
    public int RequestLogLimit { get; set; } = 10_000;

    /// <summary>Gets or sets the period of BOOKMARK events on watches that ask for them.</summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how WATCH requests with <c>sendInitialEvents</c> (streaming lists) are answered.</summary>
    /// <value>The default value is <see cref="StreamingListSupport.Supported"/>.</value>
    public StreamingListSupport StreamingLists { get; set; } = StreamingListSupport.Supported;

    /// <summary>
    /// Gets or sets how long after a streaming list's initial events its initial-events-end bookmark comes. kube-apiserver
    /// sends that bookmark on its bookmark tick, up to about a second after the initial events; changes committed
    /// meanwhile are sent before it, and no other bookmark comes first.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/>: right after the initial events. Must not be negative.</value>
    public TimeSpan InitialEventsEndDelay { get; set; }

    /// <summary>Gets or sets the fixed port to listen on; 0 picks a free port.</summary>
    /// <value>The default value is 0.</value>
    public int Port { get; set; }

    /// <summary>Gets or sets the seed of the random slice and pod name suffixes; <see langword="null"/> means unseeded.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public int? RandomSeed { get; set; }

    /// <summary>Gets or sets the clock used for creationTimestamp.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal KubernetesApiEmulatorOptions Clone() => (KubernetesApiEmulatorOptions)MemberwiseClone();

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(DefaultNamespace);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEndpointsPerSlice, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(HistoryLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestLogLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(BookmarkInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialEventsEndDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (!Enum.IsDefined(StreamingLists))
        {
            throw new ArgumentOutOfRangeException(nameof(StreamingLists), StreamingLists, "StreamingLists must be a defined StreamingListSupport value.");
        }
    }
}
