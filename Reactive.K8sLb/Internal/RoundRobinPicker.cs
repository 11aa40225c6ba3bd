using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Picks the subchannels in turn, starting at <c>first</c>; safe to call from many threads. Each pick counts for its
/// endpoint (<see cref="BalancerInstruments.Picks"/>) and returns the endpoint's cached pick result, which carries the
/// endpoint as call tracker while someone listens to <see cref="BalancerInstruments.Calls"/>: a pick allocates nothing.
/// An endpoint that is excluded (<see cref="Ejection.EndpointHealth.IsExcluded"/>: ejected as an outlier) is skipped,
/// read at every pick, so an ejection or a readmission takes effect at once without a new picker; when every endpoint
/// of the picker is excluded, they are all picked as if none were (calls keep somewhere to go). A health call
/// (<see cref="HealthChecking.HealthCheckRoute"/>) goes to the endpoint it names.
/// </summary>
internal sealed class RoundRobinPicker : SubchannelPicker
{
    private readonly BalancerInstruments.Endpoint[] _endpoints;
    private readonly bool _routesHealthChecks;
    private long _next;

    /// <param name="endpoints">The ready endpoints.</param>
    /// <param name="first">Where the cycle starts.</param>
    /// <param name="routesHealthChecks">Whether health calls (<see cref="HealthChecking.HealthCheckRoute"/>) go to the
    /// endpoint they name: one header lookup per pick, only when health checking is on.</param>
    public RoundRobinPicker(IReadOnlyList<BalancerInstruments.Endpoint> endpoints, int first, bool routesHealthChecks = false)
    {
        _endpoints = [.. endpoints];
        _routesHealthChecks = routesHealthChecks;
        _next = first - 1;
    }

    /// <summary>The endpoints in cycle order (for tests).</summary>
    internal IReadOnlyList<BalancerInstruments.Endpoint> Endpoints => _endpoints;

    /// <summary>The subchannels in cycle order (for tests).</summary>
    internal IReadOnlyList<Subchannel> Subchannels => Array.ConvertAll(_endpoints, e => e.Subchannel);

    public override PickResult Pick(PickContext context)
    {
        if (_routesHealthChecks && HealthChecking.HealthCheckRoute.TargetOf(context) is { } target) return PickFor(target);
        var count = (ulong)_endpoints.Length;
        var index = (int)((ulong)Interlocked.Increment(ref _next) % count);
        var endpoint = _endpoints[index];
        if (!endpoint.Health.IsExcluded) return endpoint.Pick();

        // Skip the excluded ones, moving the shared position along so the others keep an even share.
        for (var tried = 1UL; tried < count; tried++)
        {
            var candidate = _endpoints[(int)((ulong)Interlocked.Increment(ref _next) % count)];
            if (!candidate.Health.IsExcluded) return candidate.Pick();
        }

        // Every endpoint is excluded: pick them all in turn (one more step, so the position still moves by one).
        return _endpoints[(int)((ulong)Interlocked.Increment(ref _next) % count)].Pick();
    }

    /// <summary>A health call goes to its endpoint even while excluded (its answer is how it returns), uncounted.</summary>
    private PickResult PickFor(string target)
    {
        foreach (var endpoint in _endpoints)
        {
            if (string.Equals(endpoint.Health.Name, target, StringComparison.Ordinal)) return endpoint.Untracked;
        }

        return PickResult.ForFailure(new Status(StatusCode.Unavailable, $"Health check: {target} is not a ready endpoint."));
    }

    public override string ToString() => string.Join(", ", _endpoints.Select(e => e.Subchannel.ToString()));
}
