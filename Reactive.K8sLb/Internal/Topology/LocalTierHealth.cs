using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal.Topology;

/// <summary>
/// How much of the calls the local tier keeps when some of its endpoints are excluded (ejected, not serving): Envoy's
/// priority levels with their overprovisioning factor of 1.4, where a level keeps <c>min(1, 1.4 × healthy share)</c> of
/// the traffic and the rest spills to the next level. Without it a zone whose endpoints mostly fail sends every call to
/// the few left in it (the ejection cap may leave a failing one there), while the other zones are healthy.
/// </summary>
internal static class LocalTierHealth
{
    /// <summary>Envoy's default overprovisioning factor.</summary>
    public const double Overprovisioning = 1.4;

    /// <summary>The local tier's share (per million) given the exclusions read now: <paramref name="perMillion"/> while
    /// nothing is excluded, at most <c>1.4 × usable / count</c> of it otherwise (0 when every endpoint is excluded).
    /// One read per local endpoint.</summary>
    public static int Share(int perMillion, BalancerInstruments.Endpoint[] local)
    {
        var usable = 0;
        foreach (var endpoint in local)
        {
            if (!endpoint.Health.IsExcluded) usable++;
        }

        if (usable == local.Length) return perMillion;
        var healthy = (int)Math.Min(RoundRobinPicker.Million, Overprovisioning * RoundRobinPicker.Million * usable / local.Length);
        return Math.Min(perMillion, healthy);
    }
}
