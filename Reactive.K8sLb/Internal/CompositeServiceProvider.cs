using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// A service provider that adds one <see cref="ResolverFactory"/> in front of the user's provider (if any), and the
/// library's <see cref="LoadBalancerFactory"/>s (<c>newest_first_round_robin</c>, <c>least_request</c>,
/// <c>peak_ewma</c>) unless the user's provider has a policy of that name: the channel asks for
/// <c>IEnumerable&lt;ResolverFactory&gt;</c> and <c>IEnumerable&lt;LoadBalancerFactory&gt;</c>; every other service
/// comes from the user's provider.
/// </summary>
/// <param name="factory">The resolver factory.</param>
/// <param name="inner">The user's provider.</param>
/// <param name="policies">The channel's own policy factories (they can health-check through the channel), or
/// <see langword="null"/> for shared ones without health checking.</param>
internal sealed class CompositeServiceProvider(ResolverFactory factory, IServiceProvider? inner, IReadOnlyList<LoadBalancerFactory>? policies = null) : IServiceProvider
{
    private static readonly LoadBalancerFactory[] SharedPolicies =
        [new NewestFirstRoundRobinBalancerFactory(), new LeastRequestBalancerFactory(), new PeakEwmaBalancerFactory()];

    private IReadOnlyList<LoadBalancerFactory> Policies => policies ?? SharedPolicies;

    public object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(IEnumerable<LoadBalancerFactory>))
        {
            var others = inner?.GetService(serviceType) as IEnumerable<LoadBalancerFactory> ?? [];

            // The channel's own factories replace this library's shared ones that a container may hold
            // (AddKubernetesLoadBalancing registers them); a different policy of the same name wins.
            if (policies is not null) others = others.Where(f => !IsLibraryFactory(f));
            var result = others.ToList();
            foreach (var policy in Policies)
            {
                if (!result.Any(f => string.Equals(f.Name, policy.Name, StringComparison.OrdinalIgnoreCase))) result.Add(policy);
            }

            return result.ToArray();
        }

        if (serviceType == typeof(IEnumerable<ResolverFactory>))
        {
            var others = inner?.GetService(serviceType) as IEnumerable<ResolverFactory> ?? [];
            return new[] { factory }.Concat(others.Where(f => !string.Equals(f.Name, factory.Name, StringComparison.OrdinalIgnoreCase))).ToArray();
        }

        if (serviceType == typeof(ResolverFactory)) return factory;
        return inner?.GetService(serviceType);
    }

    private static bool IsLibraryFactory(LoadBalancerFactory factory) =>
        factory is NewestFirstRoundRobinBalancerFactory or LeastRequestBalancerFactory or PeakEwmaBalancerFactory;
}
