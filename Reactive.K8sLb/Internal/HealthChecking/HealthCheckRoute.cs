using Grpc.Core;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal.HealthChecking;

/// <summary>
/// How a health call reaches one endpoint's connection. grpc-dotnet gives a policy no way to start a call on a given
/// subchannel, but every pick sees the call's <see cref="System.Net.Http.HttpRequestMessage"/>
/// (<see cref="PickContext.Request"/>), whose headers carry the call's metadata: a health call carries
/// <see cref="Header"/> naming its endpoint, and <see cref="RoundRobinPicker"/> answers it with exactly that endpoint's
/// subchannel (excluded or not, uncounted) instead of the next in turn. The header also reaches the server, harmlessly.
/// </summary>
internal static class HealthCheckRoute
{
    /// <summary>The metadata key naming the endpoint a health call is for (<c>host:port</c>).</summary>
    public const string Header = "k8slb-health-endpoint";

    /// <summary>The endpoint a call is routed to, or <see langword="null"/> for an ordinary call.</summary>
    public static string? TargetOf(PickContext context)
    {
        var request = context.Request;
        if (request is null || !request.Headers.NonValidated.TryGetValues(Header, out var values)) return null;
        return values.ToString();
    }

    /// <summary>The metadata of a health call for <paramref name="endpoint"/>.</summary>
    public static Metadata MetadataFor(string endpoint) => new() { { Header, endpoint } };
}

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
