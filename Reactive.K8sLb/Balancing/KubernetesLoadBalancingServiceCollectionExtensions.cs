using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Reactive.K8sLb;

// The namespace of grpc-dotnet's and Microsoft's own service registration extensions.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Kubernetes client-side load balancing for gRPC channels built from a service provider.</summary>
public static class KubernetesLoadBalancingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="KubernetesResolverFactory"/> as a <see cref="ResolverFactory"/> singleton and
    /// <see cref="NewestFirstRoundRobinBalancerFactory"/> as a <see cref="LoadBalancerFactory"/>, so channels
    /// whose <c>GrpcChannelOptions.ServiceProvider</c> is this provider (gRPC clients from
    /// <c>AddGrpcClient</c> get it automatically) resolve <c>k8s:///service[.namespace][:port]</c> addresses.
    /// Calling it again adds no second factory: the first registration and its options win.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The same services, for chaining.</returns>
    public static IServiceCollection AddKubernetesLoadBalancing(this IServiceCollection services, Action<KubernetesLoadBalancingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new KubernetesLoadBalancingOptions();
        configure?.Invoke(options);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, KubernetesResolverFactory>(_ => new KubernetesResolverFactory(options)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, NewestFirstRoundRobinBalancerFactory>());
        return services;
    }
}
