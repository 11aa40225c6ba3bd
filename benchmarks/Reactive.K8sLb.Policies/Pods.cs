using System.Collections.Concurrent;
using System.Net;
using Greet;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Policies;

/// <summary>A pod's added latency per call, settable while calls run (0: answers at once).</summary>
internal sealed class PodDelay
{
    private long _ticks;

    public TimeSpan Value
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));
        set => Interlocked.Exchange(ref _ticks, value.Ticks);
    }
}

/// <summary>
/// Real Greeter gRPC servers (Kestrel, HTTP/2 cleartext) standing in for pods, each on its own loopback IP (127.0.0.0/8
/// only), all on the same port. Each waits its <see cref="PodDelay"/> before answering; the reply's <c>pod</c> field
/// is the pod's IP.
/// </summary>
internal sealed class DelayPods : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, WebApplication> _apps = new();
    private readonly ConcurrentDictionary<string, PodDelay> _delays = new();

    private DelayPods(int port) => Port = port;

    public int Port { get; }

    public static DelayPods Create() => new(LoopbackGrpcPod.FreePort());

    public PodDelay DelayOf(string ip) => _delays.GetOrAdd(ip, _ => new PodDelay());

    /// <summary>Every pod back to no added latency.</summary>
    public void ResetDelays()
    {
        foreach (var delay in _delays.Values) delay.Value = TimeSpan.Zero;
    }

    public async Task StartAsync(IEnumerable<string> ips)
    {
        foreach (var ip in ips)
        {
            var identity = new Identity(ip, DelayOf(ip));
            _apps[ip] = await LoopbackGrpcPod.StartAsync<GreeterService>(IPAddress.Parse(ip), Port, s => s.AddSingleton(identity));
        }

        // One call to each pod on a throwaway channel, so no measured call pays the server's first-request costs.
        foreach (var ip in ips)
        {
            using var channel = GrpcChannel.ForAddress($"http://{ip}:{Port}");
            await new Greeter.GreeterClient(channel).SayHelloAsync(new HelloRequest { Name = "warm-up" }, deadline: DateTime.UtcNow.AddSeconds(10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps.Values)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private sealed record Identity(string Ip, PodDelay Delay);

    private sealed class GreeterService(Identity pod) : Greeter.GreeterBase
    {
        public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            var delay = pod.Delay.Value;
            if (delay > TimeSpan.Zero) await Task.Delay(delay, context.CancellationToken);
            return new HelloReply { Message = "Hello " + request.Name, Pod = pod.Ip };
        }
    }
}
