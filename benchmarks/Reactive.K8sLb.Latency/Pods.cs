using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Greet;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Latency;

/// <summary>Per-pod counters, written by the server (same process, so Stopwatch timestamps compare).</summary>
internal sealed class PodCounters
{
    private long _served;
    private long _lastServed;

    public long Served => Interlocked.Read(ref _served);

    public long LastServed => Interlocked.Read(ref _lastServed);

    public void Hit()
    {
        Interlocked.Exchange(ref _lastServed, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _served);
    }
}

/// <summary>
/// A pod's fault switch (the ejection harness): while on, the pod answers a call with <c>Unavailable</c> with the
/// given probability (1: every call), as a pod whose dependency died does while Kubernetes still lists it ready.
/// </summary>
internal sealed class PodFault
{
    private double _failureProbability;
    private double _applicationErrorProbability;
    private long _failed;
    private long _applicationErrors;

    /// <summary>0: healthy (the default); 1: every call fails; in between: each call fails with that probability.</summary>
    public double FailureProbability
    {
        get => Volatile.Read(ref _failureProbability);
        set => Volatile.Write(ref _failureProbability, value);
    }

    /// <summary>Each call gets an application error (NotFound or InvalidArgument, alternately) with this probability:
    /// a healthy pod whose answers are not all OK.</summary>
    public double ApplicationErrorProbability
    {
        get => Volatile.Read(ref _applicationErrorProbability);
        set => Volatile.Write(ref _applicationErrorProbability, value);
    }

    /// <summary>Calls this pod failed on purpose.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Whether this call fails (counted when it does).</summary>
    public bool Strikes()
    {
        var p = FailureProbability;
        if (p <= 0 || (p < 1 && Random.Shared.NextDouble() >= p)) return false;
        Interlocked.Increment(ref _failed);
        return true;
    }

    /// <summary>The application error this call gets, if any.</summary>
    public StatusCode? ApplicationError()
    {
        var p = ApplicationErrorProbability;
        if (p <= 0 || Random.Shared.NextDouble() >= p) return null;
        return Interlocked.Increment(ref _applicationErrors) % 2 == 0 ? StatusCode.NotFound : StatusCode.InvalidArgument;
    }
}

/// <summary>
/// Real Greeter gRPC servers (Kestrel, HTTP/2 cleartext only) standing in for pods, each on its own loopback IP
/// (127.0.0.0/8 only), all on the same port. The reply's <c>pod</c> field is the pod's IP.
/// </summary>
internal sealed class GreeterPods : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, WebApplication> _apps = new();

    private GreeterPods(int port) => Port = port;

    public int Port { get; }

    /// <summary>The trailer naming the pod on a failed call (a reply names it in its <c>pod</c> field).</summary>
    public const string PodTrailer = "k8slb-bench-pod";

    public ConcurrentDictionary<string, PodCounters> Counters { get; } = new();

    public static GreeterPods Create() => new(LoopbackGrpcPod.FreePort());

    public ConcurrentDictionary<string, PodFault> Faults { get; } = new();

    public PodCounters CountersOf(string ip) => Counters.GetOrAdd(ip, _ => new PodCounters());

    public PodFault FaultOf(string ip) => Faults.GetOrAdd(ip, _ => new PodFault());

    public async Task StartAsync(string ip)
    {
        var app = await LoopbackGrpcPod.StartAsync<GreeterService>(IPAddress.Parse(ip), Port, s => s.AddSingleton(new Identity(ip, CountersOf(ip), FaultOf(ip))));
        _apps[ip] = app;
    }

    /// <summary>Starts many pods, a few at a time.</summary>
    public async Task StartManyAsync(IEnumerable<string> ips)
    {
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(ips.Select(async ip =>
        {
            await gate.WaitAsync();
            try
            {
                await StartAsync(ip);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>
    /// One call to each pod straight to its address, on a throwaway channel. A pod that turns ready has usually answered
    /// its probes already, and without this the first measured call on each pod would include the server's own
    /// first-request costs (routing table, gRPC method setup) rather than the client's.
    /// </summary>
    public async Task WarmAsync(IEnumerable<string> ips)
    {
        foreach (var ip in ips)
        {
            using var channel = GrpcChannel.ForAddress($"http://{ip}:{Port}");
            await new Greeter.GreeterClient(channel).SayHelloAsync(new HelloRequest { Name = "warm-up" }, deadline: DateTime.UtcNow.AddSeconds(10));
        }
    }

    /// <summary>Stops a pod gracefully (GOAWAY, in-flight calls complete).</summary>
    public async Task StopAsync(string ip)
    {
        if (_apps.TryRemove(ip, out var app))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_apps.Keys.ToArray().Select(StopAsync));
    }

    private sealed record Identity(string Ip, PodCounters Counters, PodFault Fault);

    private sealed class GreeterService(Identity pod) : Greeter.GreeterBase
    {
        public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            pod.Counters.Hit();
            if (pod.Fault.Strikes())
            {
                // The pod names itself in a trailer, so the client can attribute the failure.
                throw new RpcException(new Status(StatusCode.Unavailable, $"injected fault on pod {pod.Ip}"), new Metadata { { PodTrailer, pod.Ip } });
            }

            if (pod.Fault.ApplicationError() is { } code)
            {
                throw new RpcException(new Status(code, $"application error from pod {pod.Ip}"), new Metadata { { PodTrailer, pod.Ip } });
            }

            return Task.FromResult(new HelloReply { Message = "Hello " + request.Name, Pod = pod.Ip });
        }
    }
}

/// <summary>One call: client-side start and end timestamps, and the pod that served it (<see langword="null"/>: failed).</summary>
internal readonly record struct CallRecord(long Start, long End, string? Pod);

/// <summary>A few concurrent callers making unary calls back to back until stopped or until their deadline.</summary>
internal sealed class CallLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _callers;
    private readonly TimeSpan _interval;
    private long _ok;
    private long _failed;

    public CallLoad(CallInvoker invoker, int callers, TimeSpan interval, TimeSpan maxDuration, bool log = false)
    {
        _interval = interval;
        Log = log ? new ConcurrentQueue<CallRecord>() : null;
        _stop = new CancellationTokenSource(maxDuration);
        var client = new Greeter.GreeterClient(invoker);
        _callers = [.. Enumerable.Range(0, callers).Select(i => Task.Run(() => RunAsync(client, i)))];
    }

    /// <summary>Client-side receive timestamp of the first reply from each pod since the last <see cref="ClearFirstReplies"/>.</summary>
    public ConcurrentDictionary<string, long> FirstReply { get; } = new();

    /// <summary>Client-side start timestamp of that first call (before the pick).</summary>
    public ConcurrentDictionary<string, long> FirstReplyStart { get; } = new();

    public long Ok => Interlocked.Read(ref _ok);

    public long Failed => Interlocked.Read(ref _failed);

    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>Every call, when created with <c>log: true</c>.</summary>
    public ConcurrentQueue<CallRecord>? Log { get; }

    public void ClearFirstReplies()
    {
        FirstReply.Clear();
        FirstReplyStart.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_callers);
        _stop.Dispose();
    }

    private async Task RunAsync(Greeter.GreeterClient client, int id)
    {
        var request = new HelloRequest { Name = "caller-" + id };
        while (!_stop.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                var reply = await client.SayHelloAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                var now = Stopwatch.GetTimestamp();
                if (FirstReply.TryAdd(reply.Pod, now)) FirstReplyStart[reply.Pod] = start;
                Log?.Enqueue(new CallRecord(start, now, reply.Pod));
                Interlocked.Increment(ref _ok);
                if (_interval > TimeSpan.Zero) await Task.Delay(_interval, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (RpcException ex)
            {
                if (_stop.IsCancellationRequested) break;
                Log?.Enqueue(new CallRecord(start, Stopwatch.GetTimestamp(), null));
                Interlocked.Increment(ref _failed);
                if (Errors.Count < 20) Errors.Enqueue($"{ex.StatusCode}: {ex.Status.Detail}");
            }
        }
    }
}
