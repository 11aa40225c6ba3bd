using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary><c>AddKubernetesLoadBalancing</c> follows the Microsoft.Extensions options conventions.</summary>
public sealed class DependencyInjectionTests
{
    [Test]
    public void RepeatedConfigureCalls_Compose()
    {
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.Debounce = TimeSpan.FromMilliseconds(100));
        services.AddKubernetesLoadBalancing(o => o.IdleTimeout = TimeSpan.FromSeconds(30));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<KubernetesLoadBalancingOptions>>().Value;

        Assert.That(options.Debounce, Is.EqualTo(TimeSpan.FromMilliseconds(100)));
        Assert.That(options.IdleTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(provider.GetServices<ResolverFactory>().OfType<KubernetesResolverFactory>().Count(), Is.EqualTo(1));
        Assert.That(provider.GetServices<LoadBalancerFactory>().OfType<NewestFirstRoundRobinBalancerFactory>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void ConfigurationSection_IsBound()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KubernetesLoadBalancing:Debounce"] = "00:00:00.200",
            ["KubernetesLoadBalancing:Readiness"] = "ReadyOnly",
            ["KubernetesLoadBalancing:ListPageSize"] = "50",
            ["KubernetesLoadBalancing:DebounceLeadingEdge"] = "false",
        }).Build();
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(configuration.GetSection("KubernetesLoadBalancing"));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<KubernetesLoadBalancingOptions>>().Value;

        Assert.That(options.Debounce, Is.EqualTo(TimeSpan.FromMilliseconds(200)));
        Assert.That(options.Readiness, Is.EqualTo(ReadinessPolicy.ReadyOnly));
        Assert.That(options.ListPageSize, Is.EqualTo(50));
        Assert.That(options.DebounceLeadingEdge, Is.False);
    }

    [Test]
    public void InvalidCombination_FailsValidationNamingTheField()
    {
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o =>
        {
            o.Debounce = TimeSpan.FromSeconds(2);
            o.MaxDebounceDelay = TimeSpan.FromSeconds(1);
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<KubernetesLoadBalancingOptions>>().Value)!;

        Assert.That(ex.Message, Does.Contain("MaxDebounceDelay"));
    }

    [Test]
    public void ValidateOnStart_IsRegistered()
    {
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.MaxDebounceDelay = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        // What a host runs at start (IStartupValidator, Microsoft.Extensions.Options 8+).
        var validator = provider.GetRequiredService<IStartupValidator>();

        Assert.That(validator.Validate, Throws.InstanceOf<OptionsValidationException>());
    }

    [Test]
    public async Task KubernetesClientRegisteredInTheContainer_IsTheOneTheResolverUses()
    {
        await using var emulator = await Reactive.K8sLb.Testing.KubernetesApiEmulator.StartAsync();
        emulator.AddService("demo", "greeter", new Reactive.K8sLb.Testing.EmulatedServicePort("grpc", 8080));
        var services = new ServiceCollection();
        services.AddSingleton(emulator.CreateClient()); // no ClientConfiguration in the options: the container's client
        services.AddKubernetesLoadBalancing();
        await using var provider = services.BuildServiceProvider();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress("k8s:///greeter.demo:grpc", new Grpc.Net.Client.GrpcChannelOptions
        {
            Credentials = Grpc.Core.ChannelCredentials.Insecure,
            ServiceProvider = provider,
        });

        _ = channel.ConnectAsync(); // starts the resolver
        await Support.Eventually.That(() => emulator.Requests.Any(r => r.Kind == Reactive.K8sLb.Testing.RequestKind.List || r.IsStreamingList), "the container's client lists the slices");
    }
}
