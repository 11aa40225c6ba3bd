using System.Collections.Concurrent;
using Grpc.Core;
using Reactive.K8sLb.Tests.Greet;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>Four workers making plain calls (5 ms of server work each) until stopped; failures are recorded.</summary>
internal sealed class CallLoad
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _stop = new();
    private Task[] _workers = [];
    private int _successes;

    public ConcurrentQueue<string> Failures { get; } = new();

    public int Successes => Volatile.Read(ref _successes);

    public static CallLoad Start(Greeter.GreeterClient client)
    {
        var load = new CallLoad();
        load._workers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!load._stop.IsCancellationRequested)
            {
                try
                {
                    await client.SayHelloAsync(new HelloRequest { Name = "5" });
                    Interlocked.Increment(ref load._successes);
                }
                catch (RpcException ex)
                {
                    load.Failures.Enqueue($"{ex.StatusCode}: {ex.Status.Detail}");
                }
            }
        }))];
        return load;
    }

    public Task MoreCalls(int count)
    {
        var target = Volatile.Read(ref _successes) + count;
        return Eventually.That(() => Volatile.Read(ref _successes) >= target, Timeout, $"{count} more calls");
    }

    /// <summary>Waits until a round of 40 more calls passes without <paramref name="pod"/> serving any of them.</summary>
    public Task UntilNoNewCallsReach(GreeterPods pods, string pod, TimeSpan timeout) => Eventually.That(async () =>
    {
        var before = pods.HitsOf(pod);
        await MoreCalls(40);
        return pods.HitsOf(pod) == before;
    }, timeout, $"{pod} gets no new calls");

    public async Task StopAfterMoreCalls(int count)
    {
        await MoreCalls(count);
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        _stop.Dispose();
    }

    public override string ToString() =>
        $"{_successes} calls succeeded, {Failures.Count} failed {string.Join("; ", Failures.Distinct())}";
}
