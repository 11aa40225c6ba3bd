using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>Queues every pick: the channel retries it with the next picker, or ends it at the call's deadline.</summary>
internal sealed class QueuePicker : SubchannelPicker
{
    public static QueuePicker Instance { get; } = new();

    public override PickResult Pick(PickContext context) => PickResult.ForQueue();
}
