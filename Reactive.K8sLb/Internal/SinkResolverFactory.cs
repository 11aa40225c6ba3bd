using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>The private-scheme factory of one <see cref="BalancedChannel"/>: hands the channel its own resolver.</summary>
internal sealed class SinkResolverFactory(ChangeSinkResolver resolver) : ResolverFactory
{
    /// <summary>The private scheme of balanced channels.</summary>
    public const string Scheme = "k8s-sink";

    public override string Name => Scheme;

    public override Resolver Create(ResolverOptions options) => resolver;
}
