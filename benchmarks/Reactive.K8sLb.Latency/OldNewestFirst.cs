using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Latency;

/// <summary>
/// Baseline for the policy comparison (<c>--policy-comparison</c>): the library's <c>newest_first_round_robin</c> as it was
/// at commit dc2a5a6, copied verbatim apart from the names and registered as <c>old_newest_first_round_robin</c>.
/// Every new picker starts at a subchannel that was not ready under the previous picker, so a pod whose readiness flaps
/// is preferred each time it comes back.
/// </summary>
internal sealed class OldNewestFirstRoundRobinBalancerFactory : LoadBalancerFactory
{
    public const string PolicyName = "old_newest_first_round_robin";

    public override string Name => PolicyName;

    public override LoadBalancer Create(LoadBalancerOptions options) =>
        new OldNewestFirstRoundRobinBalancer(options.Controller, options.LoggerFactory);
}

/// <summary>
/// Round robin whose new picker starts at a subchannel that was not ready under the previous picker. The first picker
/// starts at a random subchannel, like grpc-dotnet's round_robin, so many clients do not all start on one pod.
/// (dc2a5a6:Reactive.K8sLb/Internal/NewestFirstRoundRobinBalancer.cs)
/// </summary>
internal sealed class OldNewestFirstRoundRobinBalancer(IChannelControlHelper controller, ILoggerFactory loggerFactory)
    : SubchannelsLoadBalancer(controller, loggerFactory)
{
    private readonly object _gate = new();
    private HashSet<Subchannel> _previouslyReady = [];

    protected override SubchannelPicker CreatePicker(IReadOnlyList<Subchannel> readySubchannels)
    {
        lock (_gate)
        {
            var first = FirstPick(readySubchannels, _previouslyReady, Random.Shared.Next);
            _previouslyReady = [.. readySubchannels];
            return new OldRoundRobinPicker(readySubchannels, first);
        }
    }

    /// <summary>
    /// Where a new picker starts: at the first entry of <paramref name="ready"/> that is not in
    /// <paramref name="previouslyReady"/>; at random when there was no previous picker or nothing is new.
    /// </summary>
    internal static int FirstPick<T>(IReadOnlyList<T> ready, IReadOnlySet<T> previouslyReady, Func<int, int> random)
    {
        if (previouslyReady.Count > 0)
        {
            for (var i = 0; i < ready.Count; i++)
            {
                if (!previouslyReady.Contains(ready[i])) return i;
            }
        }

        return random(ready.Count);
    }
}

/// <summary>Picks the subchannels in turn, starting at <c>first</c>; safe to call from many threads (dc2a5a6:Reactive.K8sLb/Internal/RoundRobinPicker.cs).</summary>
internal sealed class OldRoundRobinPicker : SubchannelPicker
{
    private readonly Subchannel[] _subchannels;
    private long _next;

    public OldRoundRobinPicker(IReadOnlyList<Subchannel> subchannels, int first)
    {
        _subchannels = [.. subchannels];
        _next = first - 1;
    }

    public override PickResult Pick(PickContext context)
    {
        var index = (int)((ulong)Interlocked.Increment(ref _next) % (ulong)_subchannels.Length);
        return PickResult.ForSubchannel(_subchannels[index]);
    }

    public override string ToString() => string.Join(", ", _subchannels.Select(s => s.ToString()));
}

/// <summary>The three policies the comparison runs side by side, by name.</summary>
internal static class Policies
{
    public const string RoundRobin = "round_robin";

    public static readonly string[] Compared = [RoundRobin, OldNewestFirstRoundRobinBalancerFactory.PolicyName, NewestFirstRoundRobinBalancerFactory.PolicyName, PeakEwmaBalancerFactory.PolicyName, LeastRequestBalancerFactory.PolicyName];

    /// <summary>A fresh factory for the policy (the probe wraps it in the new-pod case).</summary>
    public static LoadBalancerFactory Factory(string name) => name switch
    {
        RoundRobin => new RoundRobinBalancerFactory(),
        OldNewestFirstRoundRobinBalancerFactory.PolicyName => new OldNewestFirstRoundRobinBalancerFactory(),
        NewestFirstRoundRobinBalancerFactory.PolicyName => new NewestFirstRoundRobinBalancerFactory(),
        PeakEwmaBalancerFactory.PolicyName => new PeakEwmaBalancerFactory(),
        LeastRequestBalancerFactory.PolicyName => new LeastRequestBalancerFactory(),
        _ => throw new ArgumentException($"unknown policy {name}", nameof(name)),
    };

    public static string Describe(string name) => name switch
    {
        RoundRobin => "round_robin (grpc-dotnet)",
        OldNewestFirstRoundRobinBalancerFactory.PolicyName => "old newest-first (dc2a5a6)",
        NewestFirstRoundRobinBalancerFactory.PolicyName => "newest_first_round_robin (library, new)",
        PeakEwmaBalancerFactory.PolicyName => "peak_ewma (library)",
        LeastRequestBalancerFactory.PolicyName => "least_request (library)",
        _ => name,
    };
}
