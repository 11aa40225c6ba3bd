using System.Collections.Concurrent;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>The channel's controller as a balancer under test sees it, recording every state it reports.</summary>
/// <param name="inner">The channel's controller.</param>
/// <param name="states">Where the reported states go, in order.</param>
internal sealed class RecordingController(IChannelControlHelper inner, ConcurrentQueue<BalancerState> states) : IChannelControlHelper
{
    public Subchannel CreateSubchannel(SubchannelOptions options) => inner.CreateSubchannel(options);

    public void RefreshResolver() => inner.RefreshResolver();

    public void UpdateState(BalancerState state)
    {
        states.Enqueue(state);
        inner.UpdateState(state);
    }
}
