using Grpc.Core;

namespace Greeter.Server;

/// <summary>Implements greet.Greeter: answers "Hello {name} from {pod}" and names the serving pod.</summary>
internal sealed class GreeterService(PodIdentity pod) : Greet.Greeter.GreeterBase
{
    public override Task<Greet.HelloReply> SayHello(Greet.HelloRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);

        return Task.FromResult(new Greet.HelloReply
        {
            Message = $"Hello {request.Name} from {pod.Name}",
            Pod = pod.Name,
        });
    }
}
