using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Reactive.K8sLb.Tests.HealthChecking;

/// <summary>
/// Active health checking (gRFC A17) with real gRPC pods on loopback (Greeter plus Grpc.HealthCheck's health service),
/// a fake discovery source and a <see cref="BalancedChannel"/>. Series are told apart by the pods' port (unique per test).
/// </summary>
public sealed class ActiveHealthCheckEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly ActiveHealthCheckOptions On = new() { Enabled = true };

    [Test]
    public async Task NotServingPod_LeavesThePicker_AndReturnsWhenServing()
    {
        await using var serving = await Serving.StartAsync(3, withHealth: true, On);
        await serving.WaitForHealthAsync("SERVING", 3);

        serving.Pods.SetHealth("pod-2", ServingStatus.NotServing);
        await Eventually.That(() => serving.Transitions("pod-2", "NOT_SERVING") == 1, Timeout, "pod-2's health check says NOT_SERVING");
        var picks = serving.Picks("pod-2");
        var hits = serving.Pods.HitsOf("pod-2");
        for (var i = 0; i < 30; i++) Assert.That(await serving.Succeeds(), Is.True);

        Assert.That(serving.Picks("pod-2"), Is.EqualTo(picks), "k8slb.endpoint.picks of pod-2 while NOT_SERVING");
        Assert.That(serving.Pods.HitsOf("pod-2"), Is.EqualTo(hits), "calls served by pod-2 while NOT_SERVING");
        Assert.That(serving.Recorder.Gauge("k8slb.endpoints.not_serving", string.Empty, serving.PortTag, serving.AddressTag("pod-2")), Is.EqualTo(1));
        Assert.That(serving.Logs.Entries.Select(e => e.Message), Has.Member($"Health check of {serving.Address("pod-2")} says NOT_SERVING: excluded."));

        serving.Pods.SetHealth("pod-2", ServingStatus.Serving);
        await Eventually.That(async () => await serving.Succeeds() && serving.Pods.HitsOf("pod-2") > hits, Timeout, "pod-2 serves calls again");

        Assert.That(serving.Logs.Entries.Select(e => e.Message), Has.Member($"Health check of {serving.Address("pod-2")} says SERVING: readmitted."));
        Assert.That(serving.Recorder.Gauge("k8slb.endpoints.not_serving", string.Empty, serving.PortTag, serving.AddressTag("pod-2")), Is.Zero);
        Assert.That(serving.Pods.HealthCallsOf("pod-2"), Is.EqualTo(1), "one stream carried both answers");
    }

    [Test]
    public async Task ACallForgingTheRoutingHeader_IsAnOrdinaryCall_AndCannotReachANotServingPod()
    {
        await using var serving = await Serving.StartAsync(3, withHealth: true, On);
        await serving.WaitForHealthAsync("SERVING", 3);
        serving.Pods.SetHealth("pod-2", ServingStatus.NotServing);
        await Eventually.That(() => serving.Transitions("pod-2", "NOT_SERVING") == 1, Timeout, "pod-2's health check says NOT_SERVING");
        var hits = serving.Pods.HitsOf("pod-2");

        var forged = new Metadata { { "k8slb-health-endpoint", serving.Address("pod-2") } };
        for (var i = 0; i < 20; i++) await serving.Client.SayHelloAsync(new HelloRequest { Name = "x" }, forged);

        Assert.That(serving.Pods.HitsOf("pod-2"), Is.EqualTo(hits), "no call pinned itself to the NOT_SERVING pod");
    }

    [Test]
    public async Task BalancedChannel_WithAContainerThatRegisteredTheSharedPolicy_StillHealthChecks()
    {
        // AddKubernetesLoadBalancing registers the library's policy factory; the channel's own (which can send health
        // calls through the channel) must win over it.
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing();
        await using var provider = services.BuildServiceProvider();
        await using var serving = await Serving.StartAsync(2, withHealth: true, On, services: provider);

        await serving.WaitForHealthAsync("SERVING", 2);

        Assert.That(serving.Logs.Entries.Where(e => e.EventId.Id == 412), Is.Empty);
    }

    [Test]
    public async Task ServiceUnknown_ExcludesThePod()
    {
        // The health service knows nothing about this name: SERVICE_UNKNOWN.
        await using var serving = await Serving.StartAsync(2, withHealth: true, new ActiveHealthCheckOptions { Enabled = true, ServiceName = "greet.Greeter" });

        await Eventually.That(() => serving.Pods.Names.All(n => serving.Transitions(n, "SERVICE_UNKNOWN") == 1), Timeout, "both pods say SERVICE_UNKNOWN");

        // Every endpoint excluded: they are all picked (calls keep somewhere to go).
        serving.Pods.ResetCounts();
        for (var i = 0; i < 10; i++) Assert.That(await serving.Succeeds(), Is.True);
        Assert.That(serving.Pods.Names.Sum(serving.Pods.HitsOf), Is.EqualTo(10));
        Assert.That(serving.Logs.Entries.Select(e => e.Message), Has.Member($"Health check of {serving.Address("pod-1")} says SERVICE_UNKNOWN: excluded."));
    }

    [Test]
    public async Task ServerWithoutHealthService_IsHealthy_WithOneWarningPerEndpoint()
    {
        await using var serving = await Serving.StartAsync(2, withHealth: false, On);

        await Eventually.That(() => serving.Pods.Names.All(n => serving.Transitions(n, "UNIMPLEMENTED") == 1), Timeout, "both health checks find no health service");
        serving.Pods.ResetCounts();
        for (var i = 0; i < 20; i++) Assert.That(await serving.Succeeds(), Is.True);

        Assert.That(serving.Pods.Names.Select(serving.Pods.HitsOf), Is.EqualTo(new[] { 10, 10 }), "both pods keep their share");
        var warnings = serving.Logs.Entries.Where(e => e.EventId.Id == 410).Select(e => e.Message).ToList();
        Assert.That(warnings, Is.EquivalentTo(serving.Pods.Names.Select(n => $"Health check of {serving.Address(n)}: the server does not implement grpc.health.v1.Health (UNIMPLEMENTED); taken as healthy, not checked again.")));
        Assert.That(serving.Recorder.Gauge("k8slb.endpoints.not_serving", string.Empty, serving.PortTag), Is.Zero);
    }

    [Test]
    public async Task Default_SendsNoHealthCalls()
    {
        await using var checkedServing = await Serving.StartAsync(2, withHealth: true, On);
        await using var serving = await Serving.StartAsync(2, withHealth: true, healthCheck: null, checkedServing.Pods);

        // The second channel made its calls after the first one's health checks had started; none of its own.
        await checkedServing.WaitForHealthAsync("SERVING", 2);
        for (var i = 0; i < 10; i++) Assert.That(await serving.Succeeds(), Is.True);

        Assert.That(serving.Pods.Names.Select(serving.Pods.HealthCallsOf), Is.EqualTo(new[] { 1, 1 }), "only the first channel's health checks");
    }

    [Test]
    public async Task HealthCall_GoesOverTheConnectionOfTheCalls()
    {
        await using var serving = await Serving.StartAsync(2, withHealth: true, On);
        await serving.WaitForHealthAsync("SERVING", 2);
        for (var i = 0; i < 10; i++) Assert.That(await serving.Succeeds(), Is.True);

        foreach (var pod in serving.Pods.Names)
        {
            var data = serving.Pods.DataConnections[pod].Keys.ToList();
            Assert.That(data, Has.Count.EqualTo(1), $"{pod}: one connection for the calls");
            Assert.That(serving.Pods.HealthConnections[pod].Keys, Is.EqualTo(data), $"{pod}: the health check on the calls' connection");
            Assert.That(serving.Pods.HealthTargets[pod], Is.EqualTo(new[] { serving.Address(pod) }), $"{pod}: one health check, its own");
        }
    }

    [Test]
    public async Task NotServingPod_StaysOut_WhileOutlierDetectionIsOff()
    {
        await using var serving = await Serving.StartAsync(2, withHealth: true, On, outlierDetection: new OutlierDetectionOptions { Enabled = false });
        await serving.WaitForHealthAsync("SERVING", 2);

        serving.Pods.SetHealth("pod-1", ServingStatus.NotServing);
        await Eventually.That(() => serving.Transitions("pod-1", "NOT_SERVING") == 1, Timeout, "pod-1 says NOT_SERVING");
        serving.Pods.ResetCounts();
        for (var i = 0; i < 10; i++) Assert.That(await serving.Succeeds(), Is.True);

        Assert.That(serving.Pods.HitsOf("pod-2"), Is.EqualTo(10));
    }

    [Test]
    public async Task FailedHealthStream_IsReopenedAfterTheBackoff()
    {
        var options = new ActiveHealthCheckOptions { Enabled = true, InitialBackoff = TimeSpan.FromMilliseconds(50) };
        var pods = await GreeterPods.StartAsync(1, withHealth: true);
        pods.FailingHealthCalls["pod-1"] = 2;
        await using var serving = await Serving.StartAsync(1, withHealth: true, options, pods, ownsPods: true);

        await serving.WaitForHealthAsync("SERVING", 1);

        Assert.That(serving.Pods.HealthCallsOf("pod-1"), Is.EqualTo(3), "two failed streams, then one that answered");
        Assert.That(serving.Logs.Entries.Where(e => e.EventId.Id == 411).Select(e => e.Message), Is.EqualTo(new[]
        {
            $"Health check stream of {serving.Address("pod-1")} failed (Unavailable: pod-1: injected health fault); reopening in 0.05 s, the last answer stays.",
            $"Health check stream of {serving.Address("pod-1")} failed (Unavailable: pod-1: injected health fault); reopening in 0.1 s, the last answer stays.",
        }));
    }

    [Test]
    public async Task WhileTheHealthStreamIsDown_TheLastAnswerStays()
    {
        var options = new ActiveHealthCheckOptions { Enabled = true, InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) };
        await using var serving = await Serving.StartAsync(2, withHealth: true, options);
        await serving.WaitForHealthAsync("SERVING", 2);
        serving.Pods.SetHealth("pod-2", ServingStatus.NotServing);
        await Eventually.That(() => serving.Transitions("pod-2", "NOT_SERVING") == 1, Timeout, "pod-2 says NOT_SERVING");

        // The stream breaks, and every attempt to reopen it fails for now.
        serving.Pods.FailingHealthCalls["pod-2"] = int.MaxValue;
        serving.Pods.ResetHealthStreams("pod-2");
        await Eventually.That(() => serving.Logs.Entries.Count(e => e.EventId.Id == 411) >= 3, Timeout, "the stream failed and its reopening failed twice");
        var hits = serving.Pods.HitsOf("pod-2");
        for (var i = 0; i < 10; i++) Assert.That(await serving.Succeeds(), Is.True);
        Assert.That(serving.Pods.HitsOf("pod-2"), Is.EqualTo(hits), "pod-2 stays out while its health stream is down");

        serving.Pods.SetHealth("pod-2", ServingStatus.Serving);
        serving.Pods.FailingHealthCalls["pod-2"] = 0;
        await Eventually.That(async () => await serving.Succeeds() && serving.Pods.HitsOf("pod-2") > hits, Timeout, "pod-2 serves calls again");
        Assert.That(serving.Pods.OpenHealthCalls.GetValueOrDefault("pod-1"), Is.EqualTo(1), "pod-1's stream was never touched");
    }

    [Test]
    public async Task HealthStreams_End_WhenTheEndpointLeaves_AndWhenTheChannelIsDisposed()
    {
        await using var serving = await Serving.StartAsync(2, withHealth: true, On);
        await serving.WaitForHealthAsync("SERVING", 2);
        Assert.That(serving.Pods.Names.Select(n => serving.Pods.OpenHealthCalls.GetValueOrDefault(n)), Is.EqualTo(new[] { 1, 1 }));

        serving.Discovery.Remove(serving.Pods.EndPoint("pod-1"));
        await Eventually.That(() => serving.Pods.OpenHealthCalls.GetValueOrDefault("pod-1") == 0, Timeout, "pod-1's health stream ends");
        await serving.DisposeChannelAsync();
        await Eventually.That(() => serving.Pods.OpenHealthCalls.GetValueOrDefault("pod-2") == 0, Timeout, "pod-2's health stream ends");

        Assert.That(serving.Pods.Names.Select(serving.Pods.HealthCallsOf), Is.EqualTo(new[] { 1, 1 }), "no stream reopened");
    }

    private sealed class Serving : IAsyncDisposable
    {
        private readonly BalancedChannel _channel;
        private readonly IDisposable _subscription;
        private readonly bool _ownsPods;
        private bool _channelDisposed;

        private Serving(GreeterPods pods, bool ownsPods, ActiveHealthCheckOptions? healthCheck, OutlierDetectionOptions? outlierDetection, IServiceProvider? services)
        {
            Pods = pods;
            _ownsPods = ownsPods;
            _channel = BalancedChannel.Create(new GrpcChannelOptions
            {
                ServiceConfig = NewestFirstRoundRobinConfig.DefaultServiceConfig(outlierDetection, healthCheck),
                LoggerFactory = Logs,
                ServiceProvider = services,
            });
            _subscription = Discovery.ApplyTo(_channel);
            Client = new Greeter.GreeterClient(_channel);
        }

        public GreeterPods Pods { get; }

        public FakeDiscovery Discovery { get; } = new();

        public Greeter.GreeterClient Client { get; }

        public CapturingLoggerFactory Logs { get; } = new();

        public InstrumentRecorder Recorder { get; } = new();

        public (string, object?) PortTag => ("network.peer.port", Pods.Port);

        public static async Task<Serving> StartAsync(int podCount, bool withHealth, ActiveHealthCheckOptions? healthCheck, GreeterPods? pods = null, OutlierDetectionOptions? outlierDetection = null, bool ownsPods = false, IServiceProvider? services = null)
        {
            var serving = new Serving(pods ?? await GreeterPods.StartAsync(podCount, withHealth), ownsPods: pods is null || ownsPods, healthCheck, outlierDetection, services);
            try
            {
                serving.Discovery.Insert([.. serving.Pods.Names.Select(n => (EndPoint)serving.Pods.EndPoint(n))]);
                var before = serving.Pods.Names.ToDictionary(n => n, serving.Pods.HitsOf);
                await Eventually.That(
                    async () =>
                    {
                        await serving.Succeeds();
                        return serving.Pods.Names.All(n => serving.Pods.HitsOf(n) > before[n]);
                    },
                    Timeout,
                    "every pod serves calls");
                return serving;
            }
            catch
            {
                await serving.DisposeAsync();
                throw;
            }
        }

        public string Address(string pod) => string.Create(CultureInfo.InvariantCulture, $"{Pods.EndPoint(pod).Address}:{Pods.Port}");

        public (string, object?) AddressTag(string pod) => ("network.peer.address", Pods.EndPoint(pod).Address.ToString());

        /// <summary>Waits until <paramref name="count"/> endpoints' health checks said <paramref name="status"/>.</summary>
        public Task WaitForHealthAsync(string status, int count) =>
            Eventually.That(() => Pods.Names.Count(n => Transitions(n, status) == 1) == count, Timeout, $"{count} health checks say {status}");

        public double Transitions(string pod, string status) =>
            Recorder.Sum("k8slb.endpoint.health_transitions", string.Empty, PortTag, AddressTag(pod), ("k8slb.health.status", status));

        public double Picks(string pod) => Recorder.Sum("k8slb.endpoint.picks", string.Empty, PortTag, AddressTag(pod));

        /// <summary>Makes one call; whether it succeeded.</summary>
        public async Task<bool> Succeeds()
        {
            try
            {
                await Client.SayHelloAsync(new HelloRequest { Name = "x" });
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }

        public Task DisposeChannelAsync()
        {
            if (_channelDisposed) return Task.CompletedTask;
            _channelDisposed = true;
            _subscription.Dispose();
            _channel.Dispose();
            return Task.CompletedTask;
        }

        public async ValueTask DisposeAsync()
        {
            await DisposeChannelAsync();
            Recorder.Dispose();
            if (_ownsPods) await Pods.DisposeAsync();
        }
    }
}
