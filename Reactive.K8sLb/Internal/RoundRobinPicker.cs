using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>Picks the subchannels in turn, starting at <c>first</c>; safe to call from many threads.</summary>
internal sealed class RoundRobinPicker : SubchannelPicker
{
    private readonly Subchannel[] _subchannels;
    private long _next;

    public RoundRobinPicker(IReadOnlyList<Subchannel> subchannels, int first)
    {
        _subchannels = [.. subchannels];
        _next = first - 1;
    }

    /// <summary>The subchannels in cycle order (for tests).</summary>
    internal IReadOnlyList<Subchannel> Subchannels => _subchannels;

    public override PickResult Pick(PickContext context)
    {
        var index = (int)((ulong)Interlocked.Increment(ref _next) % (ulong)_subchannels.Length);
        return PickResult.ForSubchannel(_subchannels[index]);
    }

    public override string ToString() => string.Join(", ", _subchannels.Select(s => s.ToString()));
}
