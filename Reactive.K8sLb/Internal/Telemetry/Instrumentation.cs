using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The library's one meter and one activity source. Every instrument is created once, here or in the static class of
/// its stage (watch, endpoints, resolver, balancer), and recorded only when <c>Enabled</c> (someone listens), so an
/// unobserved instrument costs a field read.
/// </summary>
internal static class Instrumentation
{
    private static readonly string? Version =
        typeof(Instrumentation).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    public static Meter Meter { get; } = new(K8sLbTelemetry.MeterName, Version);

    public static ActivitySource ActivitySource { get; } = new(K8sLbTelemetry.ActivitySourceName, Version);

    /// <summary>The namespace tag's value while the namespace is not known yet (the client has not been created).</summary>
    public const string UnknownNamespace = "";

    /// <summary>The two tags every instrument carries.</summary>
    public static TagList ServiceTags(string service, string? @namespace) =>
        new()
        {
            { K8sLbTelemetry.ServiceNameTag, service },
            { K8sLbTelemetry.NamespaceTag, @namespace ?? UnknownNamespace },
        };
}
