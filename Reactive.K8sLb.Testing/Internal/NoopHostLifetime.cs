using Microsoft.Extensions.Hosting;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>Keeps the embedded host from hooking Ctrl+C / SIGTERM of the test process (the console lifetime would).</summary>
internal sealed class NoopHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
