using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// A service provider that adds one <see cref="ResolverFactory"/> in front of the user's provider (if any), and the
/// newest-first round-robin <see cref="LoadBalancerFactory"/> unless the user's provider has one of that name: the
/// channel asks for <c>IEnumerable&lt;ResolverFactory&gt;</c> and <c>IEnumerable&lt;LoadBalancerFactory&gt;</c>; every
/// other service comes from the user's provider.
/// </summary>
/// <param name="factory">The resolver factory.</param>
/// <param name="inner">The user's provider.</param>
/// <param name="newestFirst">The policy factory to add, or <see langword="null"/> for a shared one without health checking.</param>
internal sealed class CompositeServiceProvider(ResolverFactory factory, IServiceProvider? inner, LoadBalancerFactory? newestFirst = null) : IServiceProvider
{
    private static readonly LoadBalancerFactory SharedNewestFirst = new NewestFirstRoundRobinBalancerFactory();

    private LoadBalancerFactory NewestFirst => newestFirst ?? SharedNewestFirst;

    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(IEnumerable<LoadBalancerFactory>))
        {
            var others = inner?.GetService(serviceType) as IEnumerable<LoadBalancerFactory> ?? [];

            // The channel's own factory (it can health-check through the channel) replaces this library's shared one
            // that a container may hold (AddKubernetesLoadBalancing registers it); a different policy of that name wins.
            if (newestFirst is not null) others = others.Where(f => f is not NewestFirstRoundRobinBalancerFactory);
            return others.Any(f => string.Equals(f.Name, NewestFirst.Name, StringComparison.OrdinalIgnoreCase))
                ? others.ToArray()
                : others.Append(NewestFirst).ToArray();
        }

        if (serviceType == typeof(IEnumerable<ResolverFactory>))
        {
            var others = inner?.GetService(serviceType) as IEnumerable<ResolverFactory> ?? [];
            return new[] { factory }.Concat(others.Where(f => !string.Equals(f.Name, factory.Name, StringComparison.OrdinalIgnoreCase))).ToArray();
        }

        if (serviceType == typeof(ResolverFactory)) return factory;
        return inner?.GetService(serviceType);
    }
}
