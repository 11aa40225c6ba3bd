using System.Collections.Concurrent;
using Greet;
using Grpc.Core;

namespace Demo;

/// <summary>Several callers calling SayHello in a loop over one channel; counts calls per pod and failures.</summary>
internal sealed class CallLoad
{
    private readonly ConcurrentDictionary<string, long> _perPod = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _failures = new();
    private long _total;
    private long _failed;

    public long Total => Interlocked.Read(ref _total);

    public long Failed => Interlocked.Read(ref _failed);

    public IReadOnlyDictionary<string, long> PerPod => new SortedDictionary<string, long>(_perPod, StringComparer.Ordinal);

    /// <summary>The first few failures, for the summary.</summary>
    public IReadOnlyList<string> Failures => [.. _failures.Take(10)];

    public Task RunAsync(CallInvoker invoker, int callers, TimeSpan pause, CancellationToken cancellationToken)
    {
        var client = new Greet.Greeter.GreeterClient(invoker);
        return Task.WhenAll(Enumerable.Range(1, callers).Select(n => CallerAsync(client, n, pause, cancellationToken)));
    }

    private async Task CallerAsync(Greet.Greeter.GreeterClient client, int caller, TimeSpan pause, CancellationToken cancellationToken)
    {
        var request = new HelloRequest { Name = $"caller-{caller}" };
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var reply = await client.SayHelloAsync(request, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                _perPod.AddOrUpdate(reply.Pod, 1, (_, n) => n + 1);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failed);
                if (_failures.Count < 10) _failures.Enqueue($"{ex.StatusCode}: {ex.Status.Detail}");
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _total);
            try
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
