using System.Globalization;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal.HealthChecking;

/// <summary>Logs what the health checks of a balancer's endpoints say and counts the transitions (the log first:
/// whoever sees the count can find the message).</summary>
internal sealed class HealthReporter(ILogger logger)
{
    /// <summary>The balancer's logger (it gains the Service scope once the Service is known).</summary>
    public ILogger Logger { get; set; } = logger;

    /// <summary>A new answer, different from the last one.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="status">The answer's protocol name.</param>
    /// <param name="serving">Whether it admits the endpoint.</param>
    /// <param name="changed">Whether it changed the endpoint's exclusion.</param>
    public void Reported(BalancerInstruments.Endpoint endpoint, string status, bool serving, bool changed)
    {
        var name = endpoint.Health.Name;
        if (!serving) Log.HealthNotServing(Logger, name, status);
        else if (changed) Log.HealthServingAgain(Logger, name);
        else Log.HealthServing(Logger, name);
        endpoint.RecordHealthTransition(status);
    }

    /// <summary>The server has no health service.</summary>
    public void Unimplemented(BalancerInstruments.Endpoint endpoint)
    {
        Log.HealthUnimplemented(Logger, endpoint.Health.Name);
        endpoint.RecordHealthTransition("UNIMPLEMENTED");
    }

    /// <summary>The stream failed; it reopens after <paramref name="delay"/>.</summary>
    public void StreamFailed(BalancerInstruments.Endpoint endpoint, string failure, TimeSpan delay)
    {
        if (!Logger.IsEnabled(LogLevel.Debug)) return;
        var seconds = delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        Log.HealthStreamFailed(Logger, endpoint.Health.Name, failure, seconds);
    }
}
