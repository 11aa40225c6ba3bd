using System.Collections.Concurrent;
using System.Diagnostics;
using Greet;
using Grpc.Core;

namespace Reactive.K8sLb.Policies;

/// <summary>One call: client-side start and end (<see cref="Stopwatch"/> timestamps) and the pod that answered
/// (<see langword="null"/>: the call failed).</summary>
internal readonly record struct CallRecord(long Start, long End, string? Pod)
{
    public double Milliseconds => (End - Start) * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Concurrent callers making unary calls back to back, recording every call, until disposed.</summary>
internal sealed class CallLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _callers;

    public CallLoad(CallInvoker invoker, int callers)
    {
        var client = new Greeter.GreeterClient(invoker);
        _callers = [.. Enumerable.Range(0, callers).Select(i => Task.Run(() => RunAsync(client, i)))];
    }

    public ConcurrentQueue<CallRecord> Calls { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

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
                Calls.Enqueue(new CallRecord(start, Stopwatch.GetTimestamp(), reply.Pod));
            }
            catch (RpcException ex)
            {
                if (_stop.IsCancellationRequested) break;
                Calls.Enqueue(new CallRecord(start, Stopwatch.GetTimestamp(), null));
                if (Errors.Count < 10) Errors.Enqueue($"{ex.StatusCode}: {ex.Status.Detail}");
            }
        }
    }
}
