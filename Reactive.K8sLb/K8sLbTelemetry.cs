namespace Reactive.K8sLb;

/// <summary>
/// The names under which the library publishes its telemetry: one <see cref="System.Diagnostics.Metrics.Meter"/> and
/// one <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="MeterName"/> (with OpenTelemetry:
/// <c>.AddMeter("Reactive.K8sLb")</c> and <c>.AddSource("Reactive.K8sLb")</c>; with dotnet-counters:
/// <c>--counters Reactive.K8sLb</c>). Every instrument is tagged with the Service and its namespace. Nothing is
/// measured or allocated for an instrument nobody listens to.
/// </summary>
public static class K8sLbTelemetry
{
    /// <summary>The name of the library's meter, <c>Reactive.K8sLb</c>.</summary>
    public const string MeterName = "Reactive.K8sLb";

    /// <summary>The name of the library's activity source, <c>Reactive.K8sLb</c>.</summary>
    public const string ActivitySourceName = "Reactive.K8sLb";

    /// <summary>The tag naming the Service discovered, <c>k8s.service.name</c> (named like OpenTelemetry's
    /// <c>k8s.*.name</c> resource attributes, which define none for Services).</summary>
    public const string ServiceNameTag = "k8s.service.name";

    /// <summary>The tag naming the Service's namespace, OpenTelemetry's <c>k8s.namespace.name</c>.</summary>
    public const string NamespaceTag = "k8s.namespace.name";
}
