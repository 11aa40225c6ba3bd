using Grpc.Core;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal.HealthChecking;

/// <summary>
/// How a health call reaches one endpoint's connection. grpc-dotnet gives a policy no way to start a call on a given
/// subchannel, but every pick sees the call's <see cref="System.Net.Http.HttpRequestMessage"/>
/// (<see cref="PickContext.Request"/>), whose headers carry the call's metadata: a health call carries
/// <see cref="Header"/> naming its endpoint, and <see cref="RoundRobinPicker"/> answers it with exactly that endpoint's
/// subchannel (excluded or not, uncounted) instead of the next in turn. The header also reaches the server, harmlessly.
/// Its value starts with a random token of this process, so a user's call (or a header forwarded from elsewhere) cannot
/// pin itself to an ejected endpoint: without the token the call is an ordinary one.
/// </summary>
internal static class HealthCheckRoute
{
    /// <summary>The metadata key naming the endpoint a health call is for (<c>token host:port</c>).</summary>
    public const string Header = "k8slb-health-endpoint";

    private static readonly string Token = Guid.NewGuid().ToString("N") + " ";

    /// <summary>The endpoint a call is routed to, or <see langword="null"/> for an ordinary call.</summary>
    public static string? TargetOf(PickContext context)
    {
        var request = context.Request;
        if (request is null || !request.Headers.NonValidated.TryGetValues(Header, out var values)) return null;
        var value = values.ToString();
        return value.StartsWith(Token, StringComparison.Ordinal) ? value[Token.Length..] : null;
    }

    /// <summary>The metadata of a health call for <paramref name="endpoint"/>.</summary>
    public static Metadata MetadataFor(string endpoint) => new() { { Header, Token + endpoint } };

    /// <summary>The pick of a health call for <paramref name="target"/>: that endpoint's subchannel even while it is
    /// excluded (its answer is how it returns), uncounted; a failure when it is not among the ready endpoints.</summary>
    public static Grpc.Net.Client.Balancer.PickResult PickFor(string target, Telemetry.BalancerInstruments.Endpoint[] local, Telemetry.BalancerInstruments.Endpoint[] others)
    {
        foreach (var endpoint in local)
        {
            if (string.Equals(endpoint.Health.Name, target, StringComparison.Ordinal)) return endpoint.Untracked;
        }

        foreach (var endpoint in others)
        {
            if (string.Equals(endpoint.Health.Name, target, StringComparison.Ordinal)) return endpoint.Untracked;
        }

        return Grpc.Net.Client.Balancer.PickResult.ForFailure(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, $"Health check: {target} is not a ready endpoint."));
    }
}
