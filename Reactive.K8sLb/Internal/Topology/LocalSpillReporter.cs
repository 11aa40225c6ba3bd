using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal.Topology;

/// <summary>
/// Logs when calls leave the local endpoints because every one of them is excluded (ejected or not serving), and when
/// a local endpoint takes calls again. One per balancer, shared by its pickers, so a new picker does not log the same
/// state twice. Called from picks: a state change is one compare-and-swap, and the log never throws into the call.
/// </summary>
internal sealed class LocalSpillReporter(ILogger logger)
{
    private int _spilling;

    /// <summary>Where the lines go (the balancer replaces it once it knows its Service).</summary>
    public ILogger Logger { get; set; } = logger;

    /// <summary>Whether calls are spilling over because every local endpoint is excluded.</summary>
    public bool IsSpilling => Volatile.Read(ref _spilling) != 0;

    /// <summary>Every local endpoint was excluded at a pick.</summary>
    public void LocalExcluded(int others)
    {
        if (Interlocked.CompareExchange(ref _spilling, 1, 0) != 0) return;
        Guarded(() => Log.TopologyLocalExcluded(Logger, others));
    }

    /// <summary>A local endpoint took a call again.</summary>
    public void LocalUsable()
    {
        if (Interlocked.CompareExchange(ref _spilling, 0, 1) != 1) return;
        Guarded(() => Log.TopologyLocalUsable(Logger));
    }

    /// <summary>Forgets the state (a new topology decision: its own log line says where calls go).</summary>
    public void Reset() => Volatile.Write(ref _spilling, 0);

    private static void Guarded(Action log)
    {
        try
        {
            log();
        }
#pragma warning disable CA1031 // A throwing logger provider must not fail the call being picked.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
