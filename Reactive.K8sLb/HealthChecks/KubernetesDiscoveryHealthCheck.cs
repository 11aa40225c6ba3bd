using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.HealthChecks;

/// <summary>
/// Reports every discovery of the process that reports health (<see cref="DiscoveryOptions.ReportHealth"/>), read from
/// <see cref="DiscoveryRegistry"/>: Healthy when synchronized, healthy and not empty; Degraded while failing with a
/// last known set; Unhealthy (the registration's failure status) when never synchronized or when the resolved set is
/// empty. The result is the worst of them; its data has one entry per discovery.
/// </summary>
internal sealed class KubernetesDiscoveryHealthCheck : IHealthCheck
{
    private readonly Func<DiscoverySnapshot, bool> _include;

    public KubernetesDiscoveryHealthCheck()
        : this(static _ => true)
    {
    }

    /// <summary>Reports only the discoveries <paramref name="include"/> accepts. Internal for testing (the registry is process-wide).</summary>
    internal KubernetesDiscoveryHealthCheck(Func<DiscoverySnapshot, bool> include) => _include = include;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(Check(context.Registration?.FailureStatus ?? HealthStatus.Unhealthy));
    }

    internal HealthCheckResult Check(HealthStatus failureStatus)
    {
        var discoveries = DiscoveryRegistry.Snapshot()
            .Where(s => s.ReportsHealth && _include(s))
            .Select(s => (Key: KeyOf(s), Snapshot: s, Assessment: Assess(s)))
            .OrderBy(d => d.Key, StringComparer.Ordinal)
            .ThenBy(d => d.Snapshot.Id)
            .ToList();
        if (discoveries.Count == 0)
        {
            return HealthCheckResult.Healthy("No Kubernetes discovery is running (no k8s:/// channel, no Observe with ReportHealth).");
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, snapshot, assessment) in discoveries)
        {
            var n = seen[key] = seen.GetValueOrDefault(key) + 1;
            var entry = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["health"] = assessment.Health.ToString(),
                ["endpoints"] = snapshot.Usable,
                ["discovery"] = snapshot.Status.Health.ToString(),
                ["synchronized"] = snapshot.Status.IsSynchronized,
            };
            if (assessment.Reason is { } reason) entry["reason"] = reason;
            data[n == 1 ? key : string.Create(CultureInfo.InvariantCulture, $"{key}#{n}")] = entry;
        }

        var worst = discoveries.Min(d => d.Assessment.Health); // HealthStatus: Unhealthy < Degraded < Healthy
        var status = worst == HealthStatus.Unhealthy ? failureStatus : worst;
        var failed = discoveries.FirstOrDefault(d => d.Assessment.Health == worst && d.Snapshot.Status.Error is not null);
        return new HealthCheckResult(status, Describe(discoveries.Select(d => (d.Key, d.Assessment)).ToList()), failed.Snapshot.Status?.Error, data);
    }

    /// <summary>What one discovery says about itself.</summary>
    internal static (HealthStatus Health, string? Reason) Assess(DiscoverySnapshot snapshot)
    {
        var status = snapshot.Status;
        if (!status.IsSynchronized)
        {
            return (HealthStatus.Unhealthy, status.Message ?? "not synchronized: waiting for the first complete list of EndpointSlices");
        }

        if (status.Health == DiscoveryHealth.Failing)
        {
            // The set in force is the last one known; it is only useful if it is not empty.
            return snapshot.Usable > 0
                ? (HealthStatus.Degraded, status.Message ?? "discovery is failing; the last known endpoints stay in use")
                : (HealthStatus.Unhealthy, status.Message ?? "discovery is failing and the last known set is empty");
        }

        // Synchronized and not failing: the pipeline gives an empty set its reason as the message ("no ready endpoints
        // for Service ns/name", a port no slice defines, no slices) and a non-empty set no message.
        if (status.Message is { } empty) return (HealthStatus.Unhealthy, empty);

        // Endpoints exist, but the build function refused every one of them: the channel has no address.
        return snapshot.Usable > 0
            ? (HealthStatus.Healthy, null)
            : (HealthStatus.Unhealthy, string.Create(CultureInfo.InvariantCulture, $"the build function failed for all {snapshot.BuildFailed} endpoints of Service {KeyOf(snapshot)}"));
    }

    private static string KeyOf(DiscoverySnapshot snapshot) =>
        snapshot.Namespace is { } ns ? $"{ns}/{snapshot.Service}" : snapshot.Service;

    private static string Describe(List<(string Key, (HealthStatus Health, string? Reason) Assessment)> discoveries)
    {
        var counts = string.Join(", ", discoveries.GroupBy(d => d.Assessment.Health).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
        var problems = discoveries.Where(d => d.Assessment.Health != HealthStatus.Healthy).Select(d => $"{d.Key}: {d.Assessment.Reason}").ToList();
        var summary = $"{discoveries.Count} Kubernetes {(discoveries.Count == 1 ? "discovery" : "discoveries")}: {counts}";
        return problems.Count == 0 ? summary + "." : $"{summary}. {string.Join("; ", problems)}";
    }
}
