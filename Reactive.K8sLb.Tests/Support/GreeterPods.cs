using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new();
    private readonly bool _withHealth;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Microsoft.AspNetCore.Http.HttpContext, bool>> _openWatches = new();
    private int _next;

    private GreeterPods(int port, bool withHealth = false)
    {
        Port = port;
        _withHealth = withHealth;
    }

    public int Port { get; }

    /// <summary>Calls served per pod name (since the last <see cref="ResetCounts"/>).</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new();

    /// <summary>Stopwatch timestamp of each pod's first served call.</summary>
    public ConcurrentDictionary<string, long> FirstHit { get; } = new();

    /// <summary>Connection ids (Kestrel's <c>HttpContext.Connection.Id</c>) of the Greeter calls, per pod.</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> DataConnections { get; } = new();

    /// <summary>Connection ids of the <c>grpc.health.v1.Health/Watch</c> calls, per pod (pods started with health).</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> HealthConnections { get; } = new();

    /// <summary>The endpoints the Health/Watch calls a pod received were meant for (their <c>k8slb-health-endpoint</c>
    /// header), per pod.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<string>> HealthTargets { get; } = new();

    /// <summary>Health/Watch calls open now, per pod (pods started with health).</summary>
    public ConcurrentDictionary<string, int> OpenHealthCalls { get; } = new();

    /// <summary>Health/Watch calls that are still to fail with <c>Unavailable</c> before the next one answers, per pod.</summary>
    public ConcurrentDictionary<string, int> FailingHealthCalls { get; } = new();

    /// <summary>Resets the open Health/Watch streams of a pod (RST_STREAM; the connection stays).</summary>
    public void ResetHealthStreams(string name)
    {
        if (!_openWatches.TryGetValue(name, out var open)) return;
        foreach (var http in open.Keys) http.Abort();
    }

    /// <summary>Health/Watch calls received per pod (pods started with health).</summary>
    public ConcurrentDictionary<string, int> HealthCalls { get; } = new();

    public static Task<GreeterPods> StartAsync(int count) => StartAsync(count, withHealth: false);

    /// <summary>Starts pods; <paramref name="withHealth"/> adds the <c>grpc.health.v1.Health</c> service (Grpc.HealthCheck's
    /// <see cref="HealthServiceImpl"/>, every pod SERVING for the whole server, <c>""</c>, until <see cref="SetHealth"/>).</summary>
    public static async Task<GreeterPods> StartAsync(int count, bool withHealth)
    {
        for (var attempt = 0; ; attempt++)
        {
            var pods = new GreeterPods(LoopbackGrpcPod.FreePort(), withHealth);
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
        if (!_withHealth)
        {
            var app = await LoopbackGrpcPod.StartAsync<GreeterService>(ip, Port, s => s.AddSingleton(new PodIdentity(name, this)));
            _pods[name] = new Pod(name, new IPEndPoint(ip, Port), app);
            return name;
        }

        var health = new PodHealthService(new PodIdentity(name, this));
        health.SetStatus(string.Empty, HealthCheckResponse.Types.ServingStatus.Serving);
        var withHealth = await StartWithHealthAsync(ip, new PodIdentity(name, this), health);
        _pods[name] = new Pod(name, new IPEndPoint(ip, Port), withHealth) { Health = health };
        return name;
    }

    /// <summary>Sets what a pod's health service says for the whole server (pods started with health).</summary>
    public void SetHealth(string name, HealthCheckResponse.Types.ServingStatus status) =>
        (_pods[name].Health ?? throw new InvalidOperationException($"{name} has no health service.")).SetStatus(string.Empty, status);

    public int HealthCallsOf(string name) => HealthCalls.GetValueOrDefault(name);

    // As LoopbackGrpcPod.StartAsync, with the health service mapped too.
    private async Task<WebApplication> StartWithHealthAsync(IPAddress ip, PodIdentity identity, PodHealthService health)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(k => k.Listen(ip, Port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(identity);
        builder.Services.AddSingleton(health);
        var app = builder.Build();
        app.MapGrpcService<GreeterService>();
        app.MapGrpcService<PodHealthService>();
        await app.StartAsync();
        return app;
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

    /// <summary>Makes a pod slow: every call waits <paramref name="delay"/> before it is answered; <see langword="null"/>
    /// makes it fast again.</summary>
    public void SetDelay(string name, TimeSpan? delay)
    {
        if (delay is { } slow) _delays[name] = slow;
        else _delays.TryRemove(name, out _);
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

    private sealed record Pod(string Name, IPEndPoint EndPoint, WebApplication App)
    {
        public HealthServiceImpl? Health { get; init; }
    }

    private static void Add(ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> connections, string pod, ServerCallContext context) =>
        connections.GetOrAdd(pod, _ => new())[context.GetHttpContext().Connection.Id] = true;

    /// <summary>Grpc.HealthCheck's service, recording who watches.</summary>
    private sealed class PodHealthService(PodIdentity pod) : HealthServiceImpl
    {
        public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
        {
            var owner = pod.Owner;
            owner.HealthCalls.AddOrUpdate(pod.Name, 1, (_, n) => n + 1);
            Add(owner.HealthConnections, pod.Name, context);
            owner.HealthTargets.GetOrAdd(pod.Name, _ => new()).Enqueue(context.RequestHeaders.GetValue("k8slb-health-endpoint")?.Split(' ')[^1] ?? "(none)");
            if (owner.FailingHealthCalls.TryGetValue(pod.Name, out var failing) && failing > 0)
            {
                owner.FailingHealthCalls[pod.Name] = failing - 1;
                throw new RpcException(new Status(StatusCode.Unavailable, $"{pod.Name}: injected health fault"));
            }

            owner.OpenHealthCalls.AddOrUpdate(pod.Name, 1, (_, n) => n + 1);
            var open = owner._openWatches.GetOrAdd(pod.Name, _ => new());
            var http = context.GetHttpContext();
            open[http] = true;
            try
            {
                await base.Watch(request, responseStream, context);
            }
            finally
            {
                open.TryRemove(http, out _);
                owner.OpenHealthCalls.AddOrUpdate(pod.Name, 0, (_, n) => n - 1);
            }
        }
    }


    private sealed record PodIdentity(string Name, GreeterPods Owner);

    private sealed class GreeterService(PodIdentity pod) : Greeter.GreeterBase
    {
        /// <summary>Replies with the pod name; a numeric request name is a delay in milliseconds.</summary>
        public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            if (int.TryParse(request.Name, out var delay) && delay > 0) await Task.Delay(delay, context.CancellationToken);
            if (pod.Owner._delays.TryGetValue(pod.Name, out var slow)) await Task.Delay(slow, context.CancellationToken);
            pod.Owner.Served(pod.Name);
            Add(pod.Owner.DataConnections, pod.Name, context);
            if (pod.Owner._faults.TryGetValue(pod.Name, out var fault)) throw new RpcException(new Status(fault, $"{pod.Name}: injected fault"));

            return new HelloReply { Message = "Hello " + request.Name, Pod = pod.Name };
        }
    }
}
