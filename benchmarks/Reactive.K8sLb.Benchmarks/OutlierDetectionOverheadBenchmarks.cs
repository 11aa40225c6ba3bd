using System.Net;
using BenchmarkDotNet.Attributes;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.AspNetCore.Builder;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// What outlier ejection costs per call, side by side in one run: real unary gRPC calls (HTTP/2 over loopback) to 3
/// in-process Kestrel pods on 127.0.0.2-4, through a <see cref="BalancedChannel"/> with ejection off and on, and through
/// a plain channel's invoker with <see cref="OutlierDetectionInterceptor"/> (the <c>k8s:///</c> path). The server is
/// in the same process, so "Allocated" includes its share; it is the same in every mode, and the difference between
/// modes is what ejection adds (final-status capture, the picker's check, the counters).
/// </summary>
[MemoryDiagnoser]
public class OutlierDetectionOverheadBenchmarks
{
    private static readonly Method<byte[], byte[]> Echo = EchoService.Method;
    private static readonly byte[] Payload = [1, 2, 3, 4];

    private readonly List<WebApplication> _pods = [];
    private BalancedChannel _channel = null!;
    private CallInvoker _invoker = null!;

    /// <summary>Off: ejection turned off. On: the default, BalancedChannel's invoker. Interceptor: ejection on, the
    /// final status captured by <see cref="OutlierDetectionInterceptor"/> on the underlying channel.</summary>
    [Params("Off", "On", "Interceptor")]
    public string Mode { get; set; } = "On";

    [GlobalSetup]
    public async Task Setup()
    {
        var port = LoopbackGrpcPod.FreePort();
        var ips = new[] { "127.0.0.2", "127.0.0.3", "127.0.0.4" };
        foreach (var ip in ips) _pods.Add(await LoopbackGrpcPod.StartAsync<EchoService>(IPAddress.Parse(ip), port).ConfigureAwait(false));

        var options = Mode == "Off" ? new OutlierDetectionOptions { Enabled = false } : new OutlierDetectionOptions();
        _channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceConfig = NewestFirstRoundRobinConfig.DefaultServiceConfig(options) });
        foreach (var ip in ips) _channel.Updates.OnNext(Change.Insert(new BalancerAddress(ip, port)));
        _invoker = Mode == "Interceptor" ? _channel.Channel.CreateCallInvoker().Intercept(new OutlierDetectionInterceptor()) : _channel.CreateCallInvoker();

        // Every pod connected and serving, and the pools warm, before measuring.
        for (var i = 0; i < 3_000; i++) await Call().ConfigureAwait(false);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _channel.Dispose();
        foreach (var pod in _pods) await pod.DisposeAsync().ConfigureAwait(false);
    }

    [Benchmark]
    public Task<byte[]> UnaryCall() => Call();

    private Task<byte[]> Call() => _invoker.AsyncUnaryCall(Echo, null, default, Payload).ResponseAsync;
}

/// <summary>A hand-bound unary echo service (no generated code needed; ASP.NET Core binds virtual methods declared
/// on the type the attribute names).</summary>
[BindServiceMethod(typeof(EchoService), nameof(BindService))]
public class EchoService
{
    public static readonly Method<byte[], byte[]> Method = new(
        MethodType.Unary,
        "bench.Echo",
        "Echo",
        Marshallers.Create(static b => b, static b => b),
        Marshallers.Create(static b => b, static b => b));

    public static void BindService(ServiceBinderBase binder, EchoService? service) =>
        binder.AddMethod(Method, service is null ? null : service.Echo);

    public virtual Task<byte[]> Echo(byte[] request, ServerCallContext context) => Task.FromResult(request);
}
