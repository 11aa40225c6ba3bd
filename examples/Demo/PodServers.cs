using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Greet;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Testing;

namespace Demo;

/// <summary>
/// In-process Greeter servers standing in for pods: pod N listens on 127.0.0.(N+1), all on one port, and names itself
/// in each reply. Only loopback addresses are used. Each served call is time-stamped (Stopwatch ticks).
/// </summary>
internal sealed class PodServers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, WebApplication> _apps = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<long>> _served = new();
    private int _next;

    private PodServers(int port) => Port = port;

    public int Port { get; }

    public static PodServers Create() => new(LoopbackGrpcPod.FreePort());

    /// <summary>Starts the next pod; returns its name and IP.</summary>
    public async Task<(string Name, string Ip)> StartNextAsync(CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _next);
        if (n > 250) throw new InvalidOperationException("Out of loopback addresses.");
        var name = $"greeter-{n}";
        var ip = $"127.0.0.{n + 1}";
        var served = _served.GetOrAdd(name, _ => new ConcurrentQueue<long>());
        var app = await LoopbackGrpcPod.StartAsync<GreeterService>(IPAddress.Parse(ip), Port, s => s.AddSingleton(new PodIdentity(name, served)), cancellationToken).ConfigureAwait(false);
        _apps[name] = app;
        return (name, ip);
    }

    /// <summary>Stops a pod gracefully: Kestrel sends GOAWAY, stops accepting and lets in-flight calls finish.</summary>
    public async Task StopAsync(string name)
    {
        if (_apps.TryRemove(name, out var app))
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stopwatch timestamps of the calls a pod served, in order.</summary>
    public IReadOnlyList<long> Served(string name) =>
        _served.TryGetValue(name, out var queue) ? [.. queue] : [];

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_apps.Keys.ToArray().Select(StopAsync)).ConfigureAwait(false);
    }

    private sealed record PodIdentity(string Name, ConcurrentQueue<long> Served);

    private sealed class GreeterService(PodIdentity pod) : Greet.Greeter.GreeterBase
    {
        public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            pod.Served.Enqueue(Stopwatch.GetTimestamp());
            return Task.FromResult(new HelloReply { Message = $"Hello {request.Name} from {pod.Name}", Pod = pod.Name });
        }
    }
}
