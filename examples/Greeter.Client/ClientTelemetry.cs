using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Reactive.K8sLb;

namespace Greeter.Client;

/// <summary>
/// OpenTelemetry as a real service would wire it: the library's meter and activity source (both named
/// <see cref="K8sLbTelemetry.MeterName"/>) to the exporter chosen by <c>TELEMETRY_EXPORTER</c>. The service name is
/// <c>OTEL_SERVICE_NAME</c> when set (OpenTelemetry reads it and <c>OTEL_RESOURCE_ATTRIBUTES</c> itself), else
/// greeter-client. Disposing the providers flushes what is pending, so a short run still exports its metrics.
/// </summary>
internal static class ClientTelemetry
{
    public static IDisposable? Start(TelemetryExporter exporter)
    {
        if (exporter == TelemetryExporter.None) return null;

        var resource = ResourceBuilder.CreateDefault();
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME"))) resource.AddService("greeter-client");

        var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(K8sLbTelemetry.MeterName);
        var traces = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(K8sLbTelemetry.ActivitySourceName);
        if (exporter == TelemetryExporter.Console)
        {
            metrics.AddConsoleExporter();
            traces.AddConsoleExporter();
        }
        else
        {
            metrics.AddOtlpExporter();
            traces.AddOtlpExporter();
        }

        return new Providers(metrics.Build(), traces.Build());
    }

    private sealed class Providers(MeterProvider metrics, TracerProvider traces) : IDisposable
    {
        public void Dispose()
        {
            metrics.Dispose();
            traces.Dispose();
        }
    }
}
