using System.Globalization;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Ejection;

/// <summary>
/// Outlier ejection with real gRPC pods on loopback, a fake discovery source and a <see cref="BalancedChannel"/>: a pod
/// that answers every call with an error while it stays listed ready. The metrics are read through a
/// <see cref="System.Diagnostics.Metrics.MeterListener"/>; series are told apart by the pods' port (unique per test).
/// </summary>
public sealed class OutlierEjectionEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Test]
    public async Task PodFailingEveryCall_IsEjectedAfterTheThreshold_AndGetsNoCallAfterwards()
    {
        await using var serving = await Serving.StartAsync(3, new OutlierDetectionOptions { ConsecutiveFailures = 5, BaseEjectionTime = TimeSpan.FromMinutes(5) });
        var (pods, client) = (serving.Pods, serving.Client);

        pods.SetFault("pod-2", StatusCode.Unavailable);
        var failed = 0;
        await Eventually.That(async () =>
        {
            if (!await serving.Succeeds()) failed++;
            return serving.Ejections() == 1;
        }, Timeout, "pod-2 is ejected");
        var hitsAtEjection = pods.HitsOf("pod-2");
        var picksAtEjection = serving.Picks("pod-2");
        for (var i = 0; i < 30; i++) await client.SayHelloAsync(new HelloRequest { Name = "x" });

        Assert.That(failed, Is.EqualTo(5), "the calls that failed before the ejection");
        Assert.That(pods.HitsOf("pod-2"), Is.EqualTo(hitsAtEjection), "calls served by pod-2 after its ejection");
        Assert.That(serving.Picks("pod-2"), Is.EqualTo(picksAtEjection), "k8slb.endpoint.picks of pod-2 after its ejection");
        Assert.That(serving.Recorder.Sum("k8slb.endpoint.ejections", string.Empty, BalancerPort(serving), ("k8slb.ejection.reason", "consecutive_failures")), Is.EqualTo(1));
        Assert.That(serving.Logs.Entries.Select(e => e.Message), Has.Member($"Ejected {serving.Address("pod-2")} for 300 s: 5 consecutive Unavailable."));
    }

    [Test]
    public async Task EjectedPod_IsReadmittedAfterTheEjectionTime()
    {
        await using var serving = await Serving.StartAsync(3, new OutlierDetectionOptions { ConsecutiveFailures = 3, BaseEjectionTime = TimeSpan.FromMilliseconds(500) });
        var pods = serving.Pods;
        pods.SetFault("pod-1", StatusCode.Internal);
        await Eventually.That(async () => await serving.Succeeds() && serving.Ejections() == 1, Timeout, "pod-1 is ejected");
        pods.SetFault("pod-1", null);
        var hitsAtEjection = pods.HitsOf("pod-1");

        await Eventually.That(async () => await serving.Succeeds() && pods.HitsOf("pod-1") > hitsAtEjection, Timeout, "pod-1 serves calls again");

        Assert.That(serving.Recorder.Sum("k8slb.endpoint.readmissions", string.Empty, BalancerPort(serving)), Is.EqualTo(1));
        Assert.That(serving.Logs.Entries.Where(e => e.EventId.Id == 405).Select(e => e.Message), Has.One.EqualTo($"Readmitted {serving.Address("pod-1")} after 0.5 s of ejection."));
    }

    [Test]
    public async Task ThreeOfFourPodsFailing_AtMostHalfAreEjected()
    {
        await using var serving = await Serving.StartAsync(4, new OutlierDetectionOptions { ConsecutiveFailures = 3, FailurePercentageThreshold = 100, MaxEjectionPercent = 50, BaseEjectionTime = TimeSpan.FromMinutes(5) });
        foreach (var name in new[] { "pod-1", "pod-2", "pod-3" }) serving.Pods.SetFault(name, StatusCode.Unavailable);

        // Until the third failing pod has asked to be ejected and been refused.
        await Eventually.That(async () =>
        {
            await serving.Succeeds();
            return serving.Logs.Entries.Any(e => e.EventId.Id == 406);
        }, Timeout, "an ejection is refused");

        Assert.That(serving.Ejections(), Is.EqualTo(2));
        Assert.That(serving.Recorder.Gauge("k8slb.endpoints.ejected", string.Empty, BalancerPort(serving)), Is.EqualTo(2));
        Assert.That(serving.Logs.Entries.Single(e => e.EventId.Id == 406).Message, Does.EndWith("2 of 4 endpoints are ejected already, the most allowed (50%)."));
    }

    [Test]
    public async Task EveryPodFailing_TheLastReadyOneIsKept()
    {
        await using var serving = await Serving.StartAsync(2, new OutlierDetectionOptions { ConsecutiveFailures = 3, FailurePercentageThreshold = 100, MaxEjectionPercent = 100, BaseEjectionTime = TimeSpan.FromMinutes(5) });
        serving.Pods.SetFault("pod-1", StatusCode.Unavailable);
        serving.Pods.SetFault("pod-2", StatusCode.Unavailable);

        await Eventually.That(async () =>
        {
            await serving.Succeeds();
            return serving.Logs.Entries.Any(e => e.EventId.Id == 406);
        }, Timeout, "the last ejection is refused");
        serving.Pods.ResetCounts();
        for (var i = 0; i < 10; i++) await serving.Succeeds();

        Assert.That(serving.Ejections(), Is.EqualTo(1));
        Assert.That(serving.Pods.Names.Sum(serving.Pods.HitsOf), Is.EqualTo(10), "calls still reach a pod");
        Assert.That(serving.Logs.Entries.Single(e => e.EventId.Id == 406).Message, Does.EndWith("it is the last ready endpoint."));
    }

    [TestCase(StatusCode.NotFound)]
    [TestCase(StatusCode.InvalidArgument)]
    public async Task ApplicationErrors_NeverEject(StatusCode code)
    {
        await using var serving = await Serving.StartAsync(2, new OutlierDetectionOptions { ConsecutiveFailures = 2, FailurePercentageThreshold = 0, MinimumHosts = 1, MinimumRequestVolume = 1, Interval = TimeSpan.FromMilliseconds(100) });
        serving.Pods.SetFault("pod-1", code);
        serving.Pods.ResetCounts();

        for (var i = 0; i < 40; i++) await serving.Succeeds();

        Assert.That(serving.Pods.HitsOf("pod-1"), Is.EqualTo(20), "pod-1 keeps its share");
        Assert.That(serving.Ejections(), Is.Zero);
    }

    [Test]
    public async Task CallerCancellation_NeverEjects()
    {
        await using var serving = await Serving.StartAsync(2, new OutlierDetectionOptions { ConsecutiveFailures = 2 });
        serving.Pods.ResetCounts();

        for (var i = 0; i < 10; i++)
        {
            using var cancellation = new CancellationTokenSource();
            using var call = serving.Client.SayHelloAsync(new HelloRequest { Name = "60000" }, cancellationToken: cancellation.Token);
            cancellation.Cancel();
            await Assert.ThatAsync(async () => await call, Throws.TypeOf<RpcException>());
            Assert.That(call.GetStatus().StatusCode, Is.EqualTo(StatusCode.Cancelled));
        }

        for (var i = 0; i < 10; i++) await serving.Succeeds();
        Assert.That(serving.Ejections(), Is.Zero);
        Assert.That(serving.Pods.Names.Select(serving.Pods.HitsOf), Is.EqualTo(new[] { 5, 5 }), "both pods keep their share");
    }

    [Test]
    public async Task TurnedOff_AFailingPodKeepsItsShare()
    {
        await using var serving = await Serving.StartAsync(2, new OutlierDetectionOptions { Enabled = false });
        serving.Pods.SetFault("pod-1", StatusCode.Unavailable);
        serving.Pods.ResetCounts();

        for (var i = 0; i < 20; i++) await serving.Succeeds();

        Assert.That(serving.Pods.HitsOf("pod-1"), Is.EqualTo(10));
        Assert.That(serving.Ejections(), Is.Zero);
    }

    [Test]
    public async Task Defaults_EjectAPodFailingEveryCall()
    {
        await using var serving = await Serving.StartAsync(2, options: null);
        serving.Pods.SetFault("pod-2", StatusCode.Unavailable);
        var failed = 0;

        await Eventually.That(async () =>
        {
            if (!await serving.Succeeds()) failed++;
            return serving.Ejections() == 1;
        }, Timeout, "pod-2 is ejected");

        Assert.That(failed, Is.EqualTo(5));
        Assert.That(serving.Logs.Entries.Select(e => e.Message), Has.Member($"Ejected {serving.Address("pod-2")} for 30 s: 5 consecutive Unavailable."));
    }

    private static (string, object?) BalancerPort(Serving serving) => ("network.peer.port", serving.Port);

    private sealed class Serving : IAsyncDisposable
    {
        private readonly BalancedChannel _channel;
        private readonly IDisposable _subscription;

        private Serving(GreeterPods pods, OutlierDetectionOptions? options)
        {
            Pods = pods;
            _channel = BalancedChannel.Create(new GrpcChannelOptions
            {
                ServiceConfig = NewestFirstRoundRobinConfig.DefaultServiceConfig(options),
                LoggerFactory = Logs,
            });
            _subscription = Discovery.ApplyTo(_channel);
            Client = new Greeter.GreeterClient(_channel);
        }

        public GreeterPods Pods { get; }

        public int Port => Pods.Port;

        public FakeDiscovery Discovery { get; } = new();

        public Greeter.GreeterClient Client { get; }

        public CapturingLoggerFactory Logs { get; } = new();

        public InstrumentRecorder Recorder { get; } = new();

        public static async Task<Serving> StartAsync(int podCount, OutlierDetectionOptions? options)
        {
            var serving = new Serving(await GreeterPods.StartAsync(podCount), options);
            try
            {
                serving.Discovery.Insert([.. serving.Pods.Names.Select(n => (EndPoint)serving.Pods.EndPoint(n))]);
                await Eventually.That(
                    async () =>
                    {
                        await serving.Succeeds();
                        return serving.Pods.Names.All(n => serving.Pods.HitsOf(n) > 0);
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

        public string Address(string pod) => string.Create(CultureInfo.InvariantCulture, $"{Pods.EndPoint(pod).Address}:{Port}");

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

        public double Ejections() => Recorder.Sum("k8slb.endpoint.ejections", string.Empty, ("network.peer.port", Port));

        public double Picks(string pod) => Recorder.Sum("k8slb.endpoint.picks", string.Empty, ("network.peer.address", Pods.EndPoint(pod).Address.ToString()), ("network.peer.port", Port));

        public async ValueTask DisposeAsync()
        {
            _subscription.Dispose();
            _channel.Dispose();
            Recorder.Dispose();
            await Pods.DisposeAsync();
        }
    }
}
