using Reactive.K8sLb.Linq;
using System.Net;
using System.Reactive.Linq;
using Greet;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using StatusCode = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb;
using Reactive.K8sLb.Testing;

namespace ReadmeSamples;

/// <summary>The README's code samples, one method each, in README order.</summary>
public static class Samples
{
    /// <summary>README: "Usage in 10 lines".</summary>
    public static async Task QuickStart()
    {
        var config = new DiscoveryConfig("greeter", "grpc") { Namespace = "demo" };
        using var channel = BalancedChannel.Create();
        using var discovery = KubernetesDiscovery.Observe(config).ApplyTo(channel);

        var client = new Greeter.GreeterClient(channel);
        var reply = await client.SayHelloAsync(new HelloRequest { Name = "world" });
        Console.WriteLine(reply.Message); // "Hello world from greeter-7d9f-x2k4q"
    }

    /// <summary>README: "Push changes into a channel yourself".</summary>
    public static void PushChanges()
    {
        using var channel = BalancedChannel.Create();
        channel.Updates.OnNext(Change.Insert(new BalancerAddress("10.0.0.1", 50051)));
        channel.Updates.OnNext(Change.Insert(new BalancerAddress("10.0.0.2", 50051)));
        channel.Updates.OnNext(Change.Remove(new BalancerAddress("10.0.0.1", 50051)));
    }

    /// <summary>README: "The tonic-style form: Discover(config, tx, build)".</summary>
    public static IDisposable DiscoverIntoChannel(BalancedChannel channel)
    {
        var config = new DiscoveryConfig("greeter", "grpc") { Namespace = "demo" };
        return KubernetesDiscovery.Discover(config, channel.Updates, endPoint =>
        {
            var ip = (IPEndPoint)endPoint;
            return new BalancerAddress(ip.Address.ToString(), ip.Port);
        });
    }

    /// <summary>README: "k8s:/// addresses with dependency injection".</summary>
    public static IServiceProvider DependencyInjection()
    {
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(options =>
        {
            options.Debounce = TimeSpan.FromMilliseconds(100);
        });
        services
            .AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("k8s:///greeter.demo:grpc"))
            .ConfigureChannel(o => o.Credentials = ChannelCredentials.Insecure);
        return services.BuildServiceProvider();
    }

    /// <summary>README: "TLS".</summary>
    public static BalancedChannel Tls()
    {
        var config = new DiscoveryConfig("greeter", 8443) { Namespace = "demo" };
        var hostOverride = new BalancerAttributesKey<string>("HostOverride");
        var channel = BalancedChannel.Create(new GrpcChannelOptions { Credentials = ChannelCredentials.SecureSsl });
        KubernetesDiscovery.Observe(config).ApplyTo(channel, endPoint =>
        {
            var ip = (IPEndPoint)endPoint;
            var address = new BalancerAddress(ip.Address.ToString(), ip.Port);
            address.Attributes.Set(hostOverride, "greeter.demo.svc"); // TLS SNI and certificate name
            return address;
        });
        return channel;
    }

    /// <summary>README: "Endpoint metadata".</summary>
    public static void EndpointMetadata(DiscoveryConfig config, BalancedChannel channel)
    {
        var hostOverride = new BalancerAttributesKey<string>("HostOverride");
        KubernetesDiscovery.Observe(config).ApplyWithMetadataTo(channel, endpoint =>
        {
            var ip = (IPEndPoint)endpoint.EndPoint;
            var address = new BalancerAddress(ip.Address.ToString(), ip.Port);
            address.Attributes.Set(hostOverride, $"{endpoint.PodName}.greeter.demo.svc");
            return address;
        });
    }

    /// <summary>README: "Configuration" (every option at its default).</summary>
    public static DiscoveryConfig Configuration()
    {
        var config = new DiscoveryConfig("greeter", "grpc")
        {
            Namespace = null,                       // the client configuration's namespace, else "default"
            Readiness = ReadinessPolicy.ReadyWithTerminatingFallback,
            AddressFamily = AddressFamilyPolicy.PreferIPv4,
            Debounce = TimeSpan.FromMilliseconds(50),
            MaxDebounceDelay = TimeSpan.FromMilliseconds(500),
            DebounceLeadingEdge = true,
            Backoff = new BackoffOptions(
                initial: TimeSpan.FromMilliseconds(250),
                maximum: TimeSpan.FromSeconds(30),
                multiplier: 2.0,
                jitter: 0.2,
                resetAfter: TimeSpan.FromSeconds(60)),
            WatchTimeout = TimeSpan.FromMinutes(5),
            IdleTimeout = TimeSpan.FromMinutes(2),
            ListPageSize = 500,
            StreamingLists = true,                  // WATCH with sendInitialEvents; LIST + WATCH where unsupported
            ClientConfiguration = null,             // in-cluster, else $KUBECONFIG or ~/.kube/config
            LoggerFactory = null,                   // no logging
            Scheduler = null,                       // DefaultScheduler.Instance
            ShareWatch = true,                      // one watch per Service per process
            ReportHealth = false,                   // not in AddKubernetesDiscovery()'s report
        };
        return config;
    }

    /// <summary>README: "Observability". Returns the app (not run).</summary>
    public static WebApplication Observability()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddKubernetesLoadBalancing();
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(K8sLbTelemetry.MeterName))             // "Reactive.K8sLb"
            .WithTracing(tracing => tracing.AddSource(K8sLbTelemetry.ActivitySourceName))  // "Reactive.K8sLb"
            .UseOtlpExporter();
        builder.Services.AddHealthChecks().AddKubernetesDiscovery();
        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        return app;
    }

    /// <summary>README: "Observability" (health check gating readiness).</summary>
    public static void HealthCheckForReadiness(WebApplicationBuilder builder, WebApplication app)
    {
        builder.Services.AddHealthChecks().AddKubernetesDiscovery(failureStatus: HealthStatus.Unhealthy, tags: ["ready"]);
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
    }

    /// <summary>README: "Health-aware balancing: outlier ejection" (tuning, the off switch).</summary>
    public static ServiceConfig OutlierEjection()
    {
        using var channel = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceConfig = NewestFirstRoundRobinConfig.DefaultServiceConfig(new OutlierDetectionOptions
            {
                ConsecutiveFailures = 3,
                BaseEjectionTime = TimeSpan.FromSeconds(10),
                FailureStatusCodes = [StatusCode.Unavailable, StatusCode.Internal],
            }),
        });
        var off = NewestFirstRoundRobinConfig.DefaultServiceConfig(new OutlierDetectionOptions { Enabled = false });
        return off;
    }

    /// <summary>README: "Active health checking (optional)".</summary>
    public static void ActiveHealthChecking()
    {
        using var checkedChannel = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceConfig = NewestFirstRoundRobinConfig.DefaultServiceConfig(null, new ActiveHealthCheckOptions
            {
                Enabled = true,
                ServiceName = "greet.Greeter", // "" (the default): the whole server
            }),
        });
    }

    /// <summary>README: "Zone- and node-aware routing".</summary>
    public static void PreferLocalTopology()
    {
        using var zonedChannel = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceConfig = new ServiceConfig
            {
                LoadBalancingConfigs =
                {
                    new NewestFirstRoundRobinConfig
                    {
                        Topology = new TopologyOptions { Mode = TopologyMode.PreferLocal }, // zone from K8SLB_ZONE
                    },
                },
            },
        });
    }

    /// <summary>README: "Load-aware picking and slow start".</summary>
    public static void PeakEwmaChannel()
    {
        using var ewmaChannel = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new PeakEwmaConfig(), new RoundRobinConfig() } },
        });
    }

    /// <summary>README: "Zone- and node-aware routing" (zone from the Node object).</summary>
    public static async Task<TopologyOptions> TopologyFromNode(k8s.IKubernetes kubernetes)
    {
        var zone = await TopologyOptions.ZoneOfNodeAsync(kubernetes); // node from K8SLB_NODE_NAME
        var nodeTopology = new TopologyOptions { Zone = zone };
        return nodeTopology;
    }

    /// <summary>README: "Health-aware balancing: outlier ejection" (k8s:/// clients).</summary>
    public static void OutlierEjectionForK8sAddresses(IServiceCollection services)
    {
        services.AddKubernetesLoadBalancing(o => o.ServiceConfig = NewestFirstRoundRobinConfig.DefaultServiceConfig(new OutlierDetectionOptions { MaxEjectionPercent = 34 }));
        services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("k8s:///greeter.demo:grpc"))
            .ConfigureChannel(o => o.Credentials = ChannelCredentials.Insecure)
            .AddInterceptor(() => new OutlierDetectionInterceptor());
    }

    /// <summary>README: "A custom Rx pipeline".</summary>
    public static IDisposable CustomPipeline(BalancedChannel channel)
    {
        var config = new DiscoveryConfig("greeter", "grpc") { Namespace = "demo" };
        var discovery = KubernetesDiscovery.Observe(config).Share();

        return discovery
            .Filter(endPoint => endPoint is IPEndPoint { Address.IsIPv6LinkLocal: false })
            .ApplyTo(channel);
    }

    /// <summary>README: "A custom Rx pipeline" (status).</summary>
    public static IDisposable WatchStatus(IDiscoveryObservable discovery)
    {
        var statusLog = discovery.Updates
            .Select(update => update.Status)
            .DistinctUntilChanged()
            .Subscribe(status => Console.WriteLine($"discovery: {status}"));
        return statusLog;
    }

    /// <summary>README: "Testing in virtual time". Returns the recorded notifications (checked by a test).</summary>
    public static IList<Recorded<System.Reactive.Notification<Change<string>>>> VirtualTime()
    {
        var scheduler = new TestScheduler();
        var changes = scheduler.CreateHotObservable(
            ReactiveTest.OnNext(100, Change.Insert("10.0.0.1")),
            ReactiveTest.OnNext(120, Change.Insert("10.0.0.2")),
            ReactiveTest.OnNext(130, Change.Remove("10.0.0.1")));

        var result = scheduler.Start(
            () => changes.Debounce(quiet: TimeSpan.FromTicks(50), maxDelay: TimeSpan.FromTicks(500), scheduler),
            created: 0, subscribed: 0, disposed: 1_000);

        // The insert and remove of 10.0.0.1 cancel out; one net change leaves 50 ticks after the last input.
        // result.Messages: OnNext(180, Insert 10.0.0.2)
        return result.Messages;
    }

    /// <summary>README: "The emulator test kit".</summary>
    public static async Task<IReadOnlyList<Change<EndPoint>>> Emulator()
    {
        await using var api = await KubernetesApiEmulator.StartAsync();
        var service = api.AddService("demo", "greeter", new EmulatedServicePort("grpc", 50051));
        service.ScaleTo(3, i => $"10.0.0.{i + 1}");

        var config = new DiscoveryConfig("greeter", "grpc") { Namespace = "demo", ClientConfiguration = api.ClientConfiguration };
        var first = await KubernetesDiscovery.Observe(config).Updates.FirstAsync(u => u.Status.IsSynchronized);

        service.SetTerminating("10.0.0.1");  // or: RemovePod, SetReady, RollingUpdateAsync, MoveEndpoint
        api.ExpireNextWatch();               // faults: 410 Gone, DropAllWatches, FailRequests(503, ...), RestartAsync
        return first.Changes;                // Insert 10.0.0.1:50051, Insert 10.0.0.2:50051, Insert 10.0.0.3:50051
    }
}
