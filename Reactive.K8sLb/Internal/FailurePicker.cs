using Grpc.Core;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>Fails every pick with one status (calls without wait-for-ready end at once with it).</summary>
internal sealed class FailurePicker(Status status) : SubchannelPicker
{
    public Status Status { get; } = status;

    public override PickResult Pick(PickContext context) => PickResult.ForFailure(Status);

    public override string ToString() => $"Failure: {Status}";
}
