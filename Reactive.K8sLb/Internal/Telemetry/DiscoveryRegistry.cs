using System.Reactive.Disposables;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// Every discovery running in the process, so that gauges and health checks can read their state. A discovery is
/// registered while subscribed and leaves when its subscription is disposed.
/// </summary>
internal static class DiscoveryRegistry
{
    private static readonly object Gate = new();
    private static readonly HashSet<DiscoveryInstance> Instances = [];

    static DiscoveryRegistry() => DiscoveryGauges.EnsureCreated();

    public static IDisposable Register(DiscoveryInstance instance)
    {
        lock (Gate) Instances.Add(instance);
        return Disposable.Create(() =>
        {
            lock (Gate) Instances.Remove(instance);
        });
    }

    public static DiscoverySnapshot[] Snapshot()
    {
        DiscoveryInstance[] instances;
        lock (Gate) instances = [.. Instances];
        return Array.ConvertAll(instances, i => i.Read());
    }
}
