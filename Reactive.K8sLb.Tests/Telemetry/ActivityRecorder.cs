using System.Collections.Concurrent;
using System.Diagnostics;

namespace Reactive.K8sLb.Tests.Telemetry;

/// <summary>
/// Records the activities of the library's source (<see cref="K8sLbTelemetry.ActivitySourceName"/>) while alive, all data
/// sampled. The source is process-wide and tests run in parallel: filter by a Service name only your test uses.
/// </summary>
internal sealed class ActivityRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _started = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public ActivityRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == K8sLbTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _started.Enqueue,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The activities named <paramref name="name"/> of <paramref name="service"/> started so far, in start order.</summary>
    public IReadOnlyList<Activity> Started(string name, string service) => Of(_started, name, service);

    /// <summary>The activities named <paramref name="name"/> of <paramref name="service"/> stopped so far, in stop order.</summary>
    public IReadOnlyList<Activity> Stopped(string name, string service) => Of(_stopped, name, service);

    public void Dispose() => _listener.Dispose();

    private static List<Activity> Of(ConcurrentQueue<Activity> activities, string name, string service) =>
        [.. activities.Where(a => a.OperationName == name && Equals(a.GetTagItem(K8sLbTelemetry.ServiceNameTag), service))];
}
