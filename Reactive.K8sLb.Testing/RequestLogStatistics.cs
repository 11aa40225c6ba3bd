using System.Diagnostics;

namespace Reactive.K8sLb.Testing;

/// <summary>
/// How a fleet of clients came back after a break, measured from the emulator's request log
/// (<see cref="KubernetesApiEmulator.Requests"/>): when each client sent its first request after a moment, and how
/// bunched all requests were. Clients are told apart by a key of each request, typically
/// <see cref="RecordedRequest.UserAgent"/>.
/// </summary>
public static class RequestLogStatistics
{
    /// <summary>The first request of each client at or after <paramref name="since"/>, and the spread of those.</summary>
    /// <param name="requests">The request log, e.g. <see cref="KubernetesApiEmulator.Requests"/>.</param>
    /// <param name="since">A <see cref="Stopwatch.GetTimestamp"/> value: the break (e.g. just before a restart).</param>
    /// <param name="client">The client a request came from; requests it maps to <see langword="null"/> are ignored.</param>
    /// <param name="window">The window for <see cref="RequestSpread.BusiestWindowCount"/>; 100 ms when omitted.</param>
    /// <returns>The statistics; with no request at all, every time is zero.</returns>
    public static RequestSpread FirstRequestsAfter(
        IEnumerable<RecordedRequest> requests,
        long since,
        Func<RecordedRequest, string?> client,
        TimeSpan? window = null)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(client);
        var busiest = window ?? TimeSpan.FromMilliseconds(100);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(busiest, TimeSpan.Zero, nameof(window));

        var after = requests.Where(r => r.Timestamp >= since).OrderBy(r => r.Timestamp).ToList();
        var first = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var request in after)
        {
            if (client(request) is { } key && !first.ContainsKey(key))
            {
                first[key] = Stopwatch.GetElapsedTime(since, request.Timestamp);
            }
        }

        var times = first.Values.Order().ToList();
        var offsets = after.Where(r => client(r) is not null).Select(r => Stopwatch.GetElapsedTime(since, r.Timestamp)).ToList();
        var most = 0;
        for (int start = 0, end = 0; end < offsets.Count; end++)
        {
            while (offsets[end] - offsets[start] >= busiest) start++;
            most = Math.Max(most, end - start + 1);
        }

        return times.Count == 0
            ? new RequestSpread(first, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0)
            : new RequestSpread(first, times[0], times[times.Count / 2], times[^1], most);
    }
}

/// <summary>The result of <see cref="RequestLogStatistics.FirstRequestsAfter"/>; times are measured from the break.</summary>
/// <param name="FirstRequestByClient">Each client's first request after the break.</param>
/// <param name="Earliest">The earliest of those first requests.</param>
/// <param name="Median">Their median (the upper one for an even count).</param>
/// <param name="Latest">The latest of those first requests.</param>
/// <param name="BusiestWindowCount">The most requests (of any client, first or not) within one window.</param>
public sealed record RequestSpread(
    IReadOnlyDictionary<string, TimeSpan> FirstRequestByClient,
    TimeSpan Earliest,
    TimeSpan Median,
    TimeSpan Latest,
    int BusiestWindowCount)
{
    /// <summary>How far apart the earliest and the latest first requests were.</summary>
    public TimeSpan Spread => Latest - Earliest;
}
