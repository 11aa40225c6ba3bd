using System.Collections.Concurrent;
using System.Diagnostics;
using Greet;
using Grpc.Core;

namespace Demo;

/// <summary>One call as a caller saw it: when it started (Stopwatch ticks) and whether it failed.</summary>
internal readonly record struct CallRecord(long Started, bool Failed);

/// <summary>
/// Several callers calling SayHello in a loop over one channel; counts calls per pod and failures, and keeps every call
/// of every pod (the pod named in the reply, or in the trailer of a failed call), so that what reached a pod and when
/// is measured, not assumed.
/// </summary>
internal sealed class CallLoad
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<CallRecord>> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _perPod = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _failures = new();
    private long _total;
    private long _failed;
    private long _failedByPods;

    public long Total => Interlocked.Read(ref _total);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Failed calls a pod answered with a failure on purpose (the fault switch; they name the pod).</summary>
    public long FailedByPods => Interlocked.Read(ref _failedByPods);

    public IReadOnlyDictionary<string, long> PerPod => new SortedDictionary<string, long>(_perPod, StringComparer.Ordinal);

    /// <summary>The first few failures that no pod answered on purpose, for the summary.</summary>
    public IReadOnlyList<string> Failures => [.. _failures.Take(10)];

    /// <summary>The calls that reached <paramref name="pod"/>, by start time.</summary>
    public IReadOnlyList<CallRecord> CallsTo(string pod) =>
        _calls.TryGetValue(pod, out var calls) ? [.. calls.OrderBy(c => c.Started)] : [];

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
            var started = Stopwatch.GetTimestamp();
            try
            {
                var reply = await client.SayHelloAsync(request, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                _perPod.AddOrUpdate(reply.Pod, 1, (_, n) => n + 1);
                Record(reply.Pod, started, failed: false);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failed);
                if (ex.Trailers.GetValue(PodServers.PodTrailer) is { } pod)
                {
                    // A pod's own answer (the demo's fault switch), not a failure of the balancing.
                    Interlocked.Increment(ref _failedByPods);
                    Record(pod, started, failed: true);
                }
                else if (_failures.Count < 10)
                {
                    _failures.Enqueue($"{ex.StatusCode}: {ex.Status.Detail}");
                }
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

    private void Record(string pod, long started, bool failed) =>
        _calls.GetOrAdd(pod, _ => new ConcurrentQueue<CallRecord>()).Enqueue(new CallRecord(started, failed));
}
