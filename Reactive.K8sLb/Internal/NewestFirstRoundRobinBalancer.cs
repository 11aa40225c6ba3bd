using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Round robin whose new picker starts at a subchannel that was not ready under the previous picker. The first picker
/// starts at a random subchannel, like grpc-dotnet's round_robin, so many clients do not all start on one pod.
/// </summary>
internal sealed class NewestFirstRoundRobinBalancer(IChannelControlHelper controller, ILoggerFactory loggerFactory)
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
            return new RoundRobinPicker(readySubchannels, first);
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
