using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Reactive.K8sLb.HealthChecks;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.HealthChecks;

/// <summary>
/// <c>AddHealthChecks().AddKubernetesDiscovery()</c> run through the container's <see cref="HealthCheckService"/>. The
/// registry of discoveries is process-wide and tests run in parallel, so each test's check only sees the Services of
/// that test (the check's internal filter, swapped into the registration); everything else is the public path.
/// </summary>
public sealed class HealthCheckTests
{
    private const string Ns = "health";

    [Test]
    public async Task NoDiscoveryRunning_IsHealthy_AndSaysSo()
    {
        await using var probe = Probe.Create(Unique("none"));

        var entry = await probe.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Description, Does.Contain("No Kubernetes discovery is running"));
        Assert.That(entry.Data, Is.Empty);
    }

    [Test]
    public async Task Observe_StalledThenSynchronizedThenScaledToZeroThenDisposed_UnhealthyHealthyUnhealthyGone()
    {
        var name = Unique("flow");
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 5000));
        service.AddPod("10.1.0.1");
        service.AddPod("10.1.0.2");
        await using var probe = Probe.Create(name, HealthStatus.Unhealthy);
        var stall = emulator.StallLists();
        var subscription = KubernetesDiscovery.Observe(Config(emulator, name, reportHealth: true)).Subscribe(_ => { });

        var connecting = await probe.CheckAsync();
        Assert.That(connecting.Status, Is.EqualTo(HealthStatus.Unhealthy), "never synchronized");
        Assert.That(Discovery(connecting, $"{Ns}/{name}")["reason"], Does.Contain("not synchronized"));
        Assert.That(Discovery(connecting, $"{Ns}/{name}")["synchronized"], Is.False);

        stall.Dispose();
        var synchronized = await probe.UntilAsync(e => e.Status == HealthStatus.Healthy, "synchronized and healthy");
        Assert.That(Discovery(synchronized, $"{Ns}/{name}")["health"], Is.EqualTo("Healthy"));
        Assert.That(Discovery(synchronized, $"{Ns}/{name}").ContainsKey("reason"), Is.False);
        Assert.That(synchronized.Description, Is.EqualTo("1 Kubernetes discovery: 1 healthy."));

        service.ScaleTo(0, _ => string.Empty);
        var empty = await probe.UntilAsync(e => e.Status != HealthStatus.Healthy, "the empty set is reported");
        Assert.That(empty.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(Discovery(empty, $"{Ns}/{name}")["reason"], Is.EqualTo($"no ready endpoints for Service {Ns}/{name}"));
        Assert.That(Discovery(empty, $"{Ns}/{name}")["endpoints"], Is.EqualTo(0));
        Assert.That(empty.Description, Does.Contain($"{Ns}/{name}: no ready endpoints"));

        subscription.Dispose();
        var gone = await probe.CheckAsync();
        Assert.That(gone.Data, Is.Empty, "a disposed discovery leaves the report");
        Assert.That(gone.Status, Is.EqualTo(HealthStatus.Healthy));
    }

    [Test]
    public async Task Observe_ApiFailingAfterSynchronization_IsDegradedWithTheLastKnownCount()
    {
        var name = Unique("outage");
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var service = emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 5000));
        service.AddPod("10.2.0.1");
        service.AddPod("10.2.0.2");
        await using var probe = Probe.Create(name, HealthStatus.Unhealthy);
        using var subscription = KubernetesDiscovery.Observe(Config(emulator, name, reportHealth: true)).Subscribe(_ => { });
        var healthy = await probe.UntilAsync(e => e.Status == HealthStatus.Healthy, "synchronized");
        Assert.That(Discovery(healthy, $"{Ns}/{name}")["endpoints"], Is.EqualTo(2));

        using var outage = emulator.FailRequests(503, "the API server is shutting down");
        emulator.DropAllWatches();

        var degraded = await probe.UntilAsync(e => e.Status != HealthStatus.Healthy, "the outage is reported");
        Assert.That(degraded.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(Discovery(degraded, $"{Ns}/{name}")["endpoints"], Is.EqualTo(2));
        Assert.That(Discovery(degraded, $"{Ns}/{name}")["discovery"], Is.EqualTo("Failing"));
    }

    [Test]
    public async Task ObserveWithoutReportHealth_IsNotReported()
    {
        var name = Unique("silent");
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 5000)).AddPod("10.3.0.1");
        await using var probe = Probe.Create(name);
        using var subscription = KubernetesDiscovery.Observe(Config(emulator, name, reportHealth: false)).Subscribe(_ => { });
        await Eventually.That(() => DiscoveryRegistry.Snapshot().Any(s => s.Service == name && s.Status.IsSynchronized), "precondition: the discovery runs and is synchronized");

        var entry = await probe.CheckAsync();

        Assert.That(entry.Data, Is.Empty);
        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
    }

    [Test]
    public async Task K8sChannel_IsReportedWhileItRuns_AndLeavesTheReportWhenDisposed()
    {
        var name = Unique("channel");
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 5000)).AddPod("10.4.0.1");
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.ClientConfiguration = emulator.ClientConfiguration);
        await using var probe = Probe.Create(name, configure: services);
        var channel = GrpcChannel.ForAddress($"k8s:///{name}.{Ns}:grpc", new GrpcChannelOptions { ServiceProvider = probe.Provider, Credentials = ChannelCredentials.Insecure });
        _ = channel.ConnectAsync(); // starts the resolver (nothing listens at the pod's address)

        var reported = await probe.UntilAsync(e => e.Status == HealthStatus.Healthy && e.Data.ContainsKey($"{Ns}/{name}"), "the channel's discovery is synchronized");
        Assert.That(Discovery(reported, $"{Ns}/{name}")["health"], Is.EqualTo("Healthy"));

        channel.Dispose();
        await probe.UntilAsync(e => e.Data.Count == 0, "the disposed channel's discovery leaves the report");
    }

    [Test]
    public async Task Registry_FailingWithALastKnownSet_IsDegraded_AndAnEmptyOneUnhealthy()
    {
        var name = Unique("states");
        await using var probe = Probe.Create(name, HealthStatus.Unhealthy);
        var failing = new DiscoveryStatus(DiscoveryHealth.Failing, true, "watch failed: 503", new InvalidOperationException("503"));
        var withSet = new DiscoveryInstance(name, Ns, reportsHealth: true);
        withSet.Update(failing, new EndpointCounts(Ready: 3, 0, 0, 0, 0, 0), Ns);
        using var registered = DiscoveryRegistry.Register(withSet);

        var degraded = await probe.CheckAsync();
        Assert.That(degraded.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(Discovery(degraded, $"{Ns}/{name}")["endpoints"], Is.EqualTo(3));
        Assert.That(Discovery(degraded, $"{Ns}/{name}")["reason"], Is.EqualTo("watch failed: 503"));
        Assert.That(degraded.Exception, Is.SameAs(failing.Error));

        var empty = new DiscoveryInstance(name, Ns, reportsHealth: true);
        empty.Update(failing, default, Ns);
        using var second = DiscoveryRegistry.Register(empty);

        var unhealthy = await probe.CheckAsync();
        Assert.That(unhealthy.Status, Is.EqualTo(HealthStatus.Unhealthy), "the worst discovery decides");
        Assert.That(unhealthy.Data.Keys, Is.EquivalentTo(new[] { $"{Ns}/{name}", $"{Ns}/{name}#2" }), "two discoveries of one Service get a suffix");
        Assert.That(unhealthy.Data.Values.Cast<IReadOnlyDictionary<string, object>>().Select(d => d["health"]), Is.EquivalentTo(new[] { "Unhealthy", "Degraded" }));
        Assert.That(unhealthy.Description, Does.StartWith("2 Kubernetes discoveries: 1 unhealthy, 1 degraded."));
    }

    [Test]
    public async Task DefaultFailureStatus_IsDegraded_SoAProbeOnTheDefaultEndpointStaysReady()
    {
        var name = Unique("default");
        await using var probe = Probe.Create(name);
        var instance = new DiscoveryInstance(name, Ns, reportsHealth: true); // never synchronized
        using var registered = DiscoveryRegistry.Register(instance);

        var entry = await probe.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(Discovery(entry, $"{Ns}/{name}")["health"], Is.EqualTo("Unhealthy"), "the data keeps the discovery's own assessment");
    }

    [Test]
    public void AddKubernetesDiscovery_RegistersNameFailureStatusAndTags()
    {
        var services = new ServiceCollection();
        services.AddHealthChecks().AddKubernetesDiscovery().AddKubernetesDiscovery("discovery-ready", HealthStatus.Unhealthy, ["ready"]);
        using var provider = services.BuildServiceProvider();

        var registrations = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthCheckServiceOptions>>().Value.Registrations.ToList();

        Assert.That(registrations.Select(r => (r.Name, r.FailureStatus, string.Join(",", r.Tags))), Is.EqualTo(new[]
        {
            (KubernetesDiscoveryHealthChecksBuilderExtensions.DefaultName, HealthStatus.Degraded, string.Empty),
            ("discovery-ready", HealthStatus.Unhealthy, "ready"),
        }));
        Assert.Throws<ArgumentNullException>(() => KubernetesDiscoveryHealthChecksBuilderExtensions.AddKubernetesDiscovery(null!));
        Assert.Throws<ArgumentException>(() => services.AddHealthChecks().AddKubernetesDiscovery(" "));
    }

    private static string Unique(string what) => $"hc-{what}-{Guid.NewGuid():N}"[..24];

    private static IReadOnlyDictionary<string, object> Discovery(HealthReportEntry entry, string key) =>
        entry.Data.TryGetValue(key, out var value) ? (IReadOnlyDictionary<string, object>)value : throw new AssertionException($"no entry {key} in [{string.Join(", ", entry.Data.Keys)}]");

    private static DiscoveryConfig Config(KubernetesApiEmulator emulator, string service, bool reportHealth) => new(service, "grpc")
    {
        Namespace = Ns,
        ClientConfiguration = emulator.ClientConfiguration,
        Debounce = TimeSpan.FromMilliseconds(20),
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
        ReportHealth = reportHealth,
    };

    /// <summary>A container with the health check registered through the public extension, seeing only one Service.</summary>
    private sealed class Probe : IAsyncDisposable
    {
        private Probe(ServiceProvider provider) => Provider = provider;

        public ServiceProvider Provider { get; }

        public static Probe Create(string service, HealthStatus? failureStatus = null, ServiceCollection? configure = null)
        {
            var services = configure ?? new ServiceCollection();
            services.AddLogging();
            services.AddHealthChecks().AddKubernetesDiscovery(failureStatus: failureStatus);
            services.Configure<HealthCheckServiceOptions>(o =>
            {
                foreach (var registration in o.Registrations.Where(r => r.Name == KubernetesDiscoveryHealthChecksBuilderExtensions.DefaultName))
                {
                    registration.Factory = _ => new KubernetesDiscoveryHealthCheck(s => s.Service == service);
                }
            });
            return new Probe(services.BuildServiceProvider());
        }

        public async Task<HealthReportEntry> CheckAsync()
        {
            var report = await Provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            return report.Entries[KubernetesDiscoveryHealthChecksBuilderExtensions.DefaultName];
        }

        public async Task<HealthReportEntry> UntilAsync(Func<HealthReportEntry, bool> condition, string what)
        {
            HealthReportEntry last = default;
            await Eventually.That(async () => condition(last = await CheckAsync()), Eventually.DefaultTimeout, what);
            return last;
        }

        public ValueTask DisposeAsync() => Provider.DisposeAsync();
    }
}
