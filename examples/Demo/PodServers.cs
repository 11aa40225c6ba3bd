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
/// in each reply (and in the <see cref="PodTrailer"/> trailer of a failed call). Only loopback addresses are used. Each
/// served call is time-stamped (Stopwatch ticks). A fault switch makes a pod fail every call with Unavailable while it
/// keeps running (and Kubernetes keeps listing it ready): the case outlier ejection is for.
/// </summary>
internal sealed class PodServers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, WebApplication> _apps = new();
    private readonly ConcurrentDictionary<string, PodIdentity> _pods = new();
    private int _next;

    private PodServers(int port) => Port = port;

    /// <summary>The response trailer naming the pod that failed a call.</summary>
    public const string PodTrailer = "demo-pod";

    public int Port { get; }

    public static PodServers Create() => new(LoopbackGrpcPod.FreePort());

    /// <summary>Starts the next pod; returns its name and IP.</summary>
    public async Task<(string Name, string Ip)> StartNextAsync(CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _next);
        if (n > 250) throw new InvalidOperationException("Out of loopback addresses.");
        var name = $"greeter-{n}";
        var ip = $"127.0.0.{n + 1}";
        var pod = _pods.GetOrAdd(name, _ => new PodIdentity(name, new ConcurrentQueue<long>()));
        var app = await LoopbackGrpcPod.StartAsync<GreeterService>(IPAddress.Parse(ip), Port, s => s.AddSingleton(pod), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Stopwatch timestamps of the calls a pod served (answered OK), in order.</summary>
    public IReadOnlyList<long> Served(string name) =>
        _pods.TryGetValue(name, out var pod) ? [.. pod.Served] : [];

    /// <summary>The fault switch: while on, the pod answers every call with Unavailable (its process and its readiness
    /// are untouched).</summary>
    public void SetFailing(string name, bool failing)
    {
        if (!_pods.TryGetValue(name, out var pod)) throw new ArgumentException($"No pod named {name}.", nameof(name));
        pod.Failing = failing;
    }

    /// <summary>The slow switch: while set, the pod waits that long before answering each call (a noisy neighbour, a
    /// GC pause); <see langword="null"/> makes it fast again.</summary>
    public void SetDelay(string name, TimeSpan? delay)
    {
        if (!_pods.TryGetValue(name, out var pod)) throw new ArgumentException($"No pod named {name}.", nameof(name));
        pod.Delay = delay ?? TimeSpan.Zero;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_apps.Keys.ToArray().Select(StopAsync)).ConfigureAwait(false);
    }

    private sealed record PodIdentity(string Name, ConcurrentQueue<long> Served)
    {
        private volatile bool _failing;
        private long _delayTicks;

        public TimeSpan Delay
        {
            get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
            set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
        }

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }
    }

    private sealed class GreeterService(PodIdentity pod) : Greet.Greeter.GreeterBase
    {
        public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            if (pod.Delay > TimeSpan.Zero) await Task.Delay(pod.Delay, context.CancellationToken).ConfigureAwait(false);
            if (pod.Failing)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"{pod.Name} fails every call (demo fault)"), new Metadata { { PodTrailer, pod.Name } });
            }

            pod.Served.Enqueue(Stopwatch.GetTimestamp());
            return new HelloReply { Message = $"Hello {request.Name} from {pod.Name}", Pod = pod.Name };
        }
    }
}
