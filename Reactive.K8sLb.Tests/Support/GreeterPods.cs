using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>
/// Real gRPC servers (Kestrel, HTTP/2 cleartext) standing in for pods: pod N listens on 127.0.0.(N+1), all on the same
/// port, and replies with its name. Only loopback (127.0.0.0/8) is used.
/// </summary>
internal sealed class GreeterPods : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Pod> _pods = new();
    private readonly ConcurrentDictionary<string, StatusCode> _faults = new();
    private int _next;

    private GreeterPods(int port) => Port = port;

    public int Port { get; }

    /// <summary>Calls served per pod name (since the last <see cref="ResetCounts"/>).</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new();

    /// <summary>Stopwatch timestamp of each pod's first served call.</summary>
    public ConcurrentDictionary<string, long> FirstHit { get; } = new();

    public static async Task<GreeterPods> StartAsync(int count)
    {
        for (var attempt = 0; ; attempt++)
        {
            var pods = new GreeterPods(LoopbackGrpcPod.FreePort());
            try
            {
                for (var i = 0; i < count; i++) await pods.AddAsync();
                return pods;
            }
            catch (IOException) when (attempt < 5)
            {
                await pods.DisposeAsync();
            }
        }
    }

    /// <summary>Starts one more pod; returns its name.</summary>
    public async Task<string> AddAsync()
    {
        var n = Interlocked.Increment(ref _next);
        var name = $"pod-{n}";
        var ip = IPAddress.Parse($"127.0.0.{n + 1}");
        var app = await LoopbackGrpcPod.StartAsync<GreeterService>(ip, Port, s => s.AddSingleton(new PodIdentity(name, this)));
        _pods[name] = new Pod(name, new IPEndPoint(ip, Port), app);
        return name;
    }

    public IPEndPoint EndPoint(string name) => _pods[name].EndPoint;

    public IReadOnlyList<string> Names => [.. _pods.Keys.Order()];

    public int HitsOf(string name) => Hits.GetValueOrDefault(name);

    public void ResetCounts() => Hits.Clear();

    /// <summary>Makes a pod answer every call with <paramref name="code"/> (while still listening and listed ready);
    /// <see langword="null"/> heals it. The call still counts in <see cref="Hits"/>.</summary>
    public void SetFault(string name, StatusCode? code)
    {
        if (code is { } failing) _faults[name] = failing;
        else _faults.TryRemove(name, out _);
    }

    /// <summary>Stops a pod gracefully: no new connections, in-flight calls complete.</summary>
    public async Task StopAsync(string name)
    {
        if (_pods.TryRemove(name, out var pod))
        {
            await pod.App.StopAsync();
            await pod.App.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _pods.Keys.ToArray()) await StopAsync(name);
    }

    private void Served(string name)
    {
        Hits.AddOrUpdate(name, 1, (_, n) => n + 1);
        FirstHit.TryAdd(name, Stopwatch.GetTimestamp());
    }

    private sealed record Pod(string Name, IPEndPoint EndPoint, WebApplication App);


    private sealed record PodIdentity(string Name, GreeterPods Owner);

    private sealed class GreeterService(PodIdentity pod) : Greeter.GreeterBase
    {
        /// <summary>Replies with the pod name; a numeric request name is a delay in milliseconds.</summary>
        public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            if (int.TryParse(request.Name, out var delay) && delay > 0) await Task.Delay(delay, context.CancellationToken);
            pod.Owner.Served(pod.Name);
            if (pod.Owner._faults.TryGetValue(pod.Name, out var fault)) throw new RpcException(new Status(fault, $"{pod.Name}: injected fault"));

            return new HelloReply { Message = "Hello " + request.Name, Pod = pod.Name };
        }
    }
}
