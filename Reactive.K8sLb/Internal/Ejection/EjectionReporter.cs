using System.Globalization;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Logs a balancer's ejections and readmissions with their evidence and counts them on the endpoint's instruments
/// (the log first: whoever sees the count can find the message).
/// </summary>
internal sealed class EjectionReporter(ILogger logger) : IEjectionObserver
{
    /// <summary>The balancer's logger (it gains the Service scope once the Service is known).</summary>
    public ILogger Logger { get; set; } = logger;

    public void Ejected(EndpointHealth endpoint, EjectionReason reason, TimeSpan duration, string evidence)
    {
        if (Logger.IsEnabled(LogLevel.Warning))
        {
            var seconds = Seconds(duration);
            Log.EndpointEjected(Logger, endpoint.Name, seconds, evidence);
        }

        (endpoint.Owner as BalancerInstruments.Endpoint)?.RecordEjection(reason);
    }

    public void Readmitted(EndpointHealth endpoint, TimeSpan ejectedFor)
    {
        if (Logger.IsEnabled(LogLevel.Information))
        {
            var seconds = Seconds(ejectedFor);
            Log.EndpointReadmitted(Logger, endpoint.Name, seconds);
        }

        (endpoint.Owner as BalancerInstruments.Endpoint)?.RecordReadmission();
    }

    public void EjectionRefused(EndpointHealth endpoint, string evidence, string why) =>
        Log.EjectionRefused(Logger, endpoint.Name, evidence, why);

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
