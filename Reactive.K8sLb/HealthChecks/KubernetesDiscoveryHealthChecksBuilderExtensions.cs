using Microsoft.Extensions.Diagnostics.HealthChecks;
using Reactive.K8sLb;
using Reactive.K8sLb.HealthChecks;

// The namespace of Microsoft's own AddCheck extensions.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the health check of the process's Kubernetes discoveries.</summary>
public static class KubernetesDiscoveryHealthChecksBuilderExtensions
{
    /// <summary>The name the check is registered under by default, <c>kubernetes-discovery</c>.</summary>
    public const string DefaultName = "kubernetes-discovery";

    /// <summary>
    /// Adds a health check that reports every Kubernetes discovery running in the process that reports health: every
    /// <c>k8s:///</c> channel (<see cref="KubernetesLoadBalancingOptions"/> sets <see cref="DiscoveryOptions.ReportHealth"/>)
    /// and every <see cref="KubernetesDiscovery"/> subscription whose configuration sets
    /// <see cref="DiscoveryOptions.ReportHealth"/>. A discovery leaves the report when its channel or subscription is
    /// disposed.
    /// <list type="bullet">
    /// <item><b>Healthy</b>: synchronized (a first complete snapshot applied), the watch healthy, endpoints resolved.</item>
    /// <item><b>Degraded</b>: the API server is failing, but a last known, non-empty set is still in use.</item>
    /// <item><b>Unhealthy</b>: never synchronized (calls wait or fail), or the resolved set is empty (no ready endpoints,
    /// the port is not defined, no EndpointSlices): calls fail. Reported as <paramref name="failureStatus"/>.</item>
    /// </list>
    /// The result is the worst of all discoveries (Healthy when none runs). Its <see cref="HealthReportEntry.Data"/>
    /// has one entry per discovery, keyed <c>namespace/service</c> (<c>#2</c>, <c>#3</c>... when several discoveries
    /// watch one Service), each a dictionary with <c>health</c> (that discovery's own assessment, before
    /// <paramref name="failureStatus"/> applies), <c>reason</c> (when not healthy: the discovery's status message),
    /// <c>endpoints</c> (the size of the resolved set), <c>discovery</c> (Connecting, Healthy or Failing) and
    /// <c>synchronized</c>; the description sums them up and names the discoveries that are not healthy.
    /// <para><b>Readiness probes.</b> A discovery outage should usually not make the client pod unready: during an
    /// API-server outage every client would report it at once and Kubernetes would pull them all out of their own
    /// Services, turning an outage of the control plane (which does not stop calls over the last known set) into an
    /// outage of the whole call chain; the same goes for a backend scaled to zero. Hence the default
    /// <paramref name="failureStatus"/> is <see cref="HealthStatus.Degraded"/>, not Unhealthy: ASP.NET Core's health
    /// endpoint answers 200 for Degraded, so the check shows problems in the report, the logs and health publishers
    /// without failing a probe. To make readiness depend on discovery (a pod that cannot work at all without its
    /// backend, typically only before the first synchronization), pass <see cref="HealthStatus.Unhealthy"/> and a tag,
    /// and map the readiness endpoint to that tag:</para>
    /// <code>
    /// services.AddHealthChecks().AddKubernetesDiscovery(failureStatus: HealthStatus.Unhealthy, tags: ["ready"]);
    /// app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check =&gt; check.Tags.Contains("ready") });
    /// </code>
    /// Never use it for a liveness probe: restarting the pod does not repair discovery.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The name of the check; the default is <see cref="DefaultName"/>.</param>
    /// <param name="failureStatus">The status reported when a discovery is unhealthy; <see langword="null"/> for the
    /// default, <see cref="HealthStatus.Degraded"/> (see the remarks on readiness above).</param>
    /// <param name="tags">Tags to filter the check by (for example in a readiness endpoint's predicate); none by default.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHealthChecksBuilder AddKubernetesDiscovery(this IHealthChecksBuilder builder, string name = DefaultName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(name, _ => new KubernetesDiscoveryHealthCheck(), failureStatus ?? HealthStatus.Degraded, tags));
    }
}
