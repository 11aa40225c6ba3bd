using Grpc.Core;

namespace Reactive.K8sLb.Internal.HealthChecking;

/// <summary>
/// The channel a balancer sends its health calls through, bound after the channel is built (the channel creates the
/// balancer lazily, after <see cref="BalancedChannel"/> has set <see cref="Invoker"/>). A balancer without one (a
/// <c>k8s:///</c> channel the user built) cannot health-check.
/// </summary>
internal sealed class HealthCheckChannel
{
    private CallInvoker? _invoker;

    /// <summary>The channel's own invoker (not the outcome-reporting one: health calls are not counted as calls).</summary>
    public CallInvoker? Invoker
    {
        get => Volatile.Read(ref _invoker);
        set => Volatile.Write(ref _invoker, value);
    }
}
