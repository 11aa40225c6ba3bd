using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Greeter.Server;

/// <summary>
/// Healthy until shutdown begins, then unhealthy, so the gRPC health service answers NOT_SERVING
/// while in-flight calls drain.
/// </summary>
internal sealed class ShutdownHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("Shutting down.")
            : HealthCheckResult.Healthy());
}
