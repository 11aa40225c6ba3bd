using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Picks the subchannels in turn, starting at <c>first</c>; safe to call from many threads. Each pick counts for its
/// endpoint (<see cref="BalancerInstruments.Picks"/>) and returns the endpoint's cached pick result, which carries the
/// endpoint as call tracker while someone listens to <see cref="BalancerInstruments.Calls"/>: a pick allocates nothing.
/// </summary>
internal sealed class RoundRobinPicker : SubchannelPicker
{
    private readonly BalancerInstruments.Endpoint[] _endpoints;
    private long _next;

    public RoundRobinPicker(IReadOnlyList<BalancerInstruments.Endpoint> endpoints, int first)
    {
        _endpoints = [.. endpoints];
        _next = first - 1;
    }

    /// <summary>The subchannels in cycle order (for tests).</summary>
    internal IReadOnlyList<Subchannel> Subchannels => Array.ConvertAll(_endpoints, e => e.Subchannel);

    public override PickResult Pick(PickContext context)
    {
        var index = (int)((ulong)Interlocked.Increment(ref _next) % (ulong)_endpoints.Length);
        return _endpoints[index].Pick();
    }

    public override string ToString() => string.Join(", ", _endpoints.Select(e => e.Subchannel.ToString()));
}
