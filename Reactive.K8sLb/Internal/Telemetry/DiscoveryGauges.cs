using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The gauges read from <see cref="DiscoveryRegistry"/> at collection time. Several discoveries of one Service (two
/// channels, say) add up: each series is per Service and namespace, so every value is a count that sums.
/// </summary>
internal static class DiscoveryGauges
{
    public const string StateTag = "k8slb.endpoint.state";
    public const string ReasonTag = "k8slb.endpoint.unused_reason";
    public const string HealthTag = "k8slb.discovery.health";

    static DiscoveryGauges()
    {
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.discovery.endpoints",
            ObserveEndpoints,
            unit: "{endpoint}",
            description: "Endpoints in the channel's address set, by state: ready, or serving_terminating (the fallback used while no endpoint is ready). An endpoint the build refused counts as unused (build_failed) instead.");
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.discovery.endpoints.unused",
            ObserveUnused,
            unit: "{endpoint}",
            description: "Endpoints listed in the EndpointSlices but not used, by reason: not_ready, wrong_family, missing_port, bad_address, build_failed.");
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.discovery.status",
            ObserveStatus,
            unit: "{discovery}",
            description: "Discoveries by health (connecting, healthy, failing); every health is reported, 0 included, so an alert can test failing > 0.");
        Instrumentation.Meter.CreateObservableUpDownCounter(
            "k8slb.discovery.unsynchronized",
            ObserveUnsynchronized,
            unit: "{discovery}",
            description: "Discoveries that have not yet applied a first complete snapshot (their channels' calls wait or fail).");
    }

    /// <summary>Runs the static constructor: the instruments exist once the first discovery registers.</summary>
    public static void EnsureCreated()
    {
    }

    private static IEnumerable<Measurement<long>> ObserveEndpoints()
    {
        foreach (var (tags, group) in Grouped())
        {
            yield return new Measurement<long>(group.Sum(s => s.InChannel.Ready), With(tags, StateTag, "ready"));
            yield return new Measurement<long>(group.Sum(s => s.InChannel.ServingTerminating), With(tags, StateTag, "serving_terminating"));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveUnused()
    {
        foreach (var (tags, group) in Grouped())
        {
            yield return new Measurement<long>(group.Sum(s => s.Counts.NotReady), With(tags, ReasonTag, "not_ready"));
            yield return new Measurement<long>(group.Sum(s => s.Counts.WrongFamily), With(tags, ReasonTag, "wrong_family"));
            yield return new Measurement<long>(group.Sum(s => s.Counts.MissingPort), With(tags, ReasonTag, "missing_port"));
            yield return new Measurement<long>(group.Sum(s => s.Counts.BadAddress), With(tags, ReasonTag, "bad_address"));
            yield return new Measurement<long>(group.Sum(s => s.BuildFailed), With(tags, ReasonTag, "build_failed"));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveStatus()
    {
        foreach (var (tags, group) in Grouped())
        {
            yield return new Measurement<long>(group.Count(s => s.Status.Health == DiscoveryHealth.Connecting), With(tags, HealthTag, "connecting"));
            yield return new Measurement<long>(group.Count(s => s.Status.Health == DiscoveryHealth.Healthy), With(tags, HealthTag, "healthy"));
            yield return new Measurement<long>(group.Count(s => s.Status.Health == DiscoveryHealth.Failing), With(tags, HealthTag, "failing"));
        }
    }

    private static IEnumerable<Measurement<long>> ObserveUnsynchronized()
    {
        foreach (var (tags, group) in Grouped())
        {
            yield return new Measurement<long>(group.Count(s => !s.Status.IsSynchronized), tags);
        }
    }

    private static IEnumerable<(TagList Tags, DiscoverySnapshot[] Group)> Grouped() =>
        DiscoveryRegistry.Snapshot()
            .GroupBy(s => (s.Service, Namespace: s.Namespace ?? Instrumentation.UnknownNamespace))
            .Select(g => (Instrumentation.ServiceTags(g.Key.Service, g.Key.Namespace), g.ToArray()));

    private static TagList With(TagList tags, string key, string value)
    {
        var copy = tags;
        copy.Add(key, value);
        return copy;
    }
}
