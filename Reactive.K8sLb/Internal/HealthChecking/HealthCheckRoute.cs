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
