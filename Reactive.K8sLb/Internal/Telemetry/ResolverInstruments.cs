using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The resolver's instruments, tagged with the Service and namespace its addresses come from (no tags while it does
/// not know them: a <see cref="BalancedChannel"/> fed by a source that is not the library's). Recorded once per
/// address list published to the channel, and only while someone listens.
/// </summary>
internal static class ResolverInstruments
{
    /// <summary>The delay histogram's bucket boundaries in milliseconds: sub-millisecond to ten seconds. The net8.0
    /// build cannot advise them: configure them with an OpenTelemetry view.</summary>
    public static IReadOnlyList<double> DelayBuckets { get; } = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private const string DelayDescription =
        "Time from the arrival of an EndpointSlice watch event to the publish of the address list containing its change (for a batch, from its earliest event).";

    /// <summary>Address lists published to the channel (a failure result is not one).</summary>
    public static Counter<long> Updates { get; } = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.resolver.updates",
        unit: "{update}",
        description: "Address lists the resolver published to the channel.");

    /// <summary>Changes to the address set (inserts, removes, replaced addresses) since the previous publish.</summary>
    public static Histogram<long> UpdateChanges { get; } = Instrumentation.Meter.CreateHistogram<long>(
        "k8slb.resolver.update.changes",
        unit: "{change}",
        description: "Changes to the address set carried by each published address list (0 for a republish the channel asked for).");

    /// <summary>From a watch event's arrival at the discovery pipeline to the publish of the list that contains its change.</summary>
    public static Histogram<double> UpdateDelay { get; } =
#if NET9_0_OR_GREATER
        Instrumentation.Meter.CreateHistogram(
            "k8slb.resolver.update.delay",
            unit: "ms",
            description: DelayDescription,
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DelayBuckets });
#else
        Instrumentation.Meter.CreateHistogram<double>("k8slb.resolver.update.delay", unit: "ms", description: DelayDescription);
#endif

    /// <summary>Whether any of the instruments is listened to.</summary>
    public static bool Enabled => Updates.Enabled || UpdateChanges.Enabled || UpdateDelay.Enabled;

    /// <summary>Records one published address list.</summary>
    /// <param name="identity">Where its addresses come from, or <see langword="null"/> when not known.</param>
    /// <param name="changes">Changes since the previous publish.</param>
    /// <param name="eventTimestamp">The earliest watch event behind them (<see cref="Stopwatch.GetTimestamp"/>); 0 for none.</param>
    public static void RecordPublish(ServiceIdentity? identity, int changes, long eventTimestamp)
    {
        var tags = identity is null ? default : Instrumentation.ServiceTags(identity.Service, identity.Namespace);
        Updates.Add(1, tags);
        UpdateChanges.Record(changes, tags);
        if (eventTimestamp != 0 && UpdateDelay.Enabled)
        {
            UpdateDelay.Record(Stopwatch.GetElapsedTime(eventTimestamp).TotalMilliseconds, tags);
        }
    }
}
