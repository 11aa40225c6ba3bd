using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Internal.Telemetry.BalancerInstruments;

namespace Reactive.K8sLb.Tests.Telemetry;

/// <summary>
/// The per-endpoint instruments end to end: the emulator publishes real gRPC servers on 127.0.0.x, a discovery feeds a
/// BalancedChannel, calls go through. Series are selected by the pods' port (unique to each test) and address, so the
/// assertions hold whether or not the resolver has named the Service yet.
/// </summary>
public sealed class BalancerTelemetryEndToEndTests
{
    private const string Ns = "lb-telemetry";

    [Test]
    public async Task ThirtyCalls_OverThreePods_PicksAndOkCallsSumToThirty_TaggedWithEachPodsAddress()
    {
        using var recorder = new InstrumentRecorder();
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        await using var pods = await GreeterPods.StartAsync(3);
        var service = emulator.AddService(Ns, "greeter", new EmulatedServicePort("grpc", pods.Port));
        foreach (var name in pods.Names) service.AddPod(pods.EndPoint(name).Address.ToString(), name: name);
        using var channel = BalancedChannel.Create();
        using var subscription = KubernetesDiscovery.Observe(Config(emulator, "greeter")).ApplyTo(channel);
        var client = new Greeter.GreeterClient(channel);
        await Eventually.That(async () =>
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            return pods.Names.All(n => pods.HitsOf(n) > 0);
        }, Eventually.DefaultTimeout, "every pod serves");
        var picksBefore = Sum(recorder, "k8slb.endpoint.picks", pods.Port);
        var okBefore = Sum(recorder, "k8slb.endpoint.calls", pods.Port, (StatusCodeTag, 0));
        pods.ResetCounts();

        for (var i = 0; i < 30; i++) await client.SayHelloAsync(new HelloRequest { Name = "x" });

        Assert.That(Sum(recorder, "k8slb.endpoint.picks", pods.Port) - picksBefore, Is.EqualTo(30));
        Assert.That(Sum(recorder, "k8slb.endpoint.calls", pods.Port, (StatusCodeTag, 0)) - okBefore, Is.EqualTo(30));
        var addresses = Series(recorder, "k8slb.endpoint.picks", pods.Port).Select(m => (string)m.Tag(PeerAddressTag)!).Distinct().Order();
        Assert.That(addresses, Is.EqualTo(pods.Names.Select(n => pods.EndPoint(n).Address.ToString()).Order()));
        Assert.That(addresses, Has.All.StartWith("127.0.0."));
        Assert.That(Series(recorder, "k8slb.endpoint.calls", pods.Port).Select(m => m.Tag(StatusCodeTag)).Distinct(), Is.EqualTo(new object[] { 0 }));
    }

    [Test]
    public async Task PodResettingTheStream_CountsTheCallsStatus_WhileAStatusInTheTrailersCountsAsOk()
    {
        using var recorder = new InstrumentRecorder();
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var ip = IPAddress.Parse("127.0.0.3");
        var port = LoopbackGrpcPod.FreePort(ip);
        await using var pod = await LoopbackGrpcPod.StartAsync<StatusGreeter>(ip, port);
        var service = emulator.AddService(Ns, "failing", new EmulatedServicePort("grpc", port));
        service.AddPod(ip.ToString(), name: "failing-1");
        using var channel = BalancedChannel.Create();
        using var subscription = KubernetesDiscovery.Observe(Config(emulator, "failing")).ApplyTo(channel);
        var client = new Greeter.GreeterClient(channel);

        var reset = await Assert.ThrowsAsync<RpcException>(async () => await client.SayHelloAsync(new HelloRequest { Name = "reset" }, deadline: DateTime.UtcNow.AddSeconds(10)));
        var trailers = await Assert.ThrowsAsync<RpcException>(async () => await client.SayHelloAsync(new HelloRequest { Name = "not-found" }));

        Assert.That(reset!.StatusCode, Is.EqualTo(StatusCode.Internal), "precondition: an RST_STREAM fails the call with Internal");
        Assert.That(trailers!.StatusCode, Is.EqualTo(StatusCode.NotFound), "precondition: the handler's status reaches the caller");
        Assert.That(Sum(recorder, "k8slb.endpoint.calls", port, (PeerAddressTag, ip.ToString()), (StatusCodeTag, (int)StatusCode.Internal)), Is.EqualTo(1));

        // The documented limit of grpc-dotnet's call tracker: it completes when the response headers arrive, so a
        // status sent by the server (trailers, or a trailers-only response) is not visible and counts as 0.
        Assert.That(Sum(recorder, "k8slb.endpoint.calls", port, (StatusCodeTag, 0)), Is.EqualTo(1));
        Assert.That(Sum(recorder, "k8slb.endpoint.picks", port), Is.EqualTo(2));
    }

    private static DiscoveryConfig Config(KubernetesApiEmulator emulator, string service) => new(service, "grpc")
    {
        Namespace = Ns,
        ClientConfiguration = emulator.ClientConfiguration,
        Debounce = TimeSpan.FromMilliseconds(20),
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
    };

    private static IEnumerable<InstrumentRecorder.Recorded> Series(InstrumentRecorder recorder, string instrument, int port) =>
        recorder.All.Where(m => m.Instrument == instrument && Equals(m.Tag(PeerPortTag), port));

    private static double Sum(InstrumentRecorder recorder, string instrument, int port, params (string Key, object? Value)[] tags) =>
        Series(recorder, instrument, port).Where(m => m.Matches(tags)).Sum(m => m.Value);

    /// <summary>A pod whose answer depends on the request: "reset" aborts the HTTP/2 stream before any response
    /// (RST_STREAM), "not-found" fails with NotFound (a trailers-only response), anything else succeeds.</summary>
    private sealed class StatusGreeter : Greeter.GreeterBase
    {
        public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            switch (request.Name)
            {
                case "reset":
                    context.GetHttpContext().Abort();
                    throw new RpcException(new Status(StatusCode.Aborted, "aborted"));
                case "not-found":
                    throw new RpcException(new Status(StatusCode.NotFound, "no such greeting"));
                default:
                    return Task.FromResult(new HelloReply { Message = "Hello " + request.Name, Pod = "failing-1" });
            }
        }
    }
}
