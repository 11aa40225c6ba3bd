using Grpc.Net.Client.Balancer;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reactive.K8sLb;
using Reactive.K8sLb.Internal;

// The namespace of grpc-dotnet's and Microsoft's own service registration extensions.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Kubernetes client-side load balancing for gRPC channels built from a service provider.</summary>
public static class KubernetesLoadBalancingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="KubernetesResolverFactory"/> as a <see cref="ResolverFactory"/> and
    /// the library's policies (<see cref="NewestFirstRoundRobinBalancerFactory"/>, <see cref="LeastRequestBalancerFactory"/>,
    /// <see cref="PeakEwmaBalancerFactory"/>) as <see cref="LoadBalancerFactory"/>s, so channels whose
    /// <c>GrpcChannelOptions.ServiceProvider</c> is this provider (gRPC clients from <c>AddGrpcClient</c> get it
    /// automatically) resolve <c>k8s:///service[.namespace][:port]</c> addresses. The settings are the options type
    /// <see cref="KubernetesLoadBalancingOptions"/>: every call's <paramref name="configure"/> is applied in order
    /// (as <c>services.Configure&lt;T&gt;</c> does), they are validated when the host starts (<c>ValidateOnStart</c>) and
    /// when first read, and an <c>ILoggerFactory</c> or <c>IKubernetes</c> registered in the provider is used unless the
    /// options set <see cref="DiscoveryOptions.LoggerFactory"/> or <see cref="DiscoveryOptions.ClientConfiguration"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts the options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The same services, for chaining.</returns>
    public static IServiceCollection AddKubernetesLoadBalancing(this IServiceCollection services, Action<KubernetesLoadBalancingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<KubernetesLoadBalancingOptions>();
        if (configure is not null) options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesLoadBalancingOptions>, KubernetesLoadBalancingOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, KubernetesResolverFactory>(provider => new KubernetesResolverFactory(
            provider.GetRequiredService<IOptions<KubernetesLoadBalancingOptions>>().Value,
            provider.GetService<ILoggerFactory>(),
            provider.GetService<IKubernetes>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, NewestFirstRoundRobinBalancerFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, LeastRequestBalancerFactory>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, PeakEwmaBalancerFactory>());
        return services;
    }

    /// <summary>
    /// Like <see cref="AddKubernetesLoadBalancing(IServiceCollection, Action{KubernetesLoadBalancingOptions})"/>, binding
    /// the options from a configuration section (for example <c>configuration.GetSection("KubernetesLoadBalancing")</c>
    /// with keys such as <c>Debounce</c>, <c>IdleTimeout</c>, <c>Readiness</c>, <c>Backoff:Maximum</c>), then applying
    /// <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <param name="configure">Adjusts the options after binding, or <see langword="null"/>.</param>
    /// <returns>The same services, for chaining.</returns>
    public static IServiceCollection AddKubernetesLoadBalancing(this IServiceCollection services, IConfiguration configuration, Action<KubernetesLoadBalancingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<KubernetesLoadBalancingOptions>()
            .Bind(configuration)
            .Configure(options => BindBackoff(configuration.GetSection(nameof(DiscoveryOptions.Backoff)), options));
        return services.AddKubernetesLoadBalancing(configure);
    }

    // BackoffOptions is immutable and validated as a whole by its constructor, which the binder cannot call on an
    // existing instance: read its keys here, keeping the current value of any key not given.
    private static void BindBackoff(IConfigurationSection section, KubernetesLoadBalancingOptions options)
    {
        if (!section.Exists()) return;
        var current = options.Backoff;
        options.Backoff = new BackoffOptions(
            initial: section.GetValue<TimeSpan?>(nameof(BackoffOptions.Initial)) ?? current.Initial,
            maximum: section.GetValue<TimeSpan?>(nameof(BackoffOptions.Maximum)) ?? current.Maximum,
            multiplier: section.GetValue<double?>(nameof(BackoffOptions.Multiplier)) ?? current.Multiplier,
            jitter: section.GetValue<double?>(nameof(BackoffOptions.Jitter)) ?? current.Jitter,
            resetAfter: section.GetValue<TimeSpan?>(nameof(BackoffOptions.ResetAfter)) ?? current.ResetAfter);
    }
}
