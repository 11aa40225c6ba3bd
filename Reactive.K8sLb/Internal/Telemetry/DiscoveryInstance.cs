namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The live state of one discovery (one subscription of the pipeline), for the gauges and the health check. Written by
/// the pipeline (status, endpoint counts) and the applier (endpoints its build skipped); read by metric collection and
/// health checks on their own threads, hence the lock (no allocation per write).
/// </summary>
internal sealed class DiscoveryInstance(string service, string? @namespace, bool reportsHealth)
{
    private readonly object _gate = new();
    private string? _namespace = @namespace;
    private DiscoveryStatus _status = DiscoveryStatus.Connecting;
    private static long s_lastId;
    private readonly Dictionary<object, int> _buildFailed = [];
    private EndpointCounts _counts;

    /// <summary>A process-wide sequence number: a stable order among discoveries of one Service.</summary>
    public long Id { get; } = Interlocked.Increment(ref s_lastId);

    public string Service { get; } = service;

    /// <summary>The namespace, once known (from the configuration or the client).</summary>
    public string? Namespace
    {
        get
        {
            lock (_gate) return _namespace;
        }
    }

    /// <summary>Whether the health check reports this discovery (<see cref="DiscoveryOptions.ReportHealth"/>).</summary>
    public bool ReportsHealth { get; } = reportsHealth;

    public void Update(DiscoveryStatus status, EndpointCounts counts, string? @namespace)
    {
        lock (_gate)
        {
            _status = status;
            _counts = counts;
            _namespace = @namespace ?? _namespace;
        }
    }

    /// <summary>
    /// How many endpoints of the set <paramref name="applier"/> applied last its <c>build</c> function refused (threw or
    /// returned null). Several appliers can share one discovery (<c>Share()</c>): the worst of them counts.
    /// </summary>
    public void SetBuildFailed(object applier, int count)
    {
        lock (_gate)
        {
            if (count == 0) _buildFailed.Remove(applier);
            else _buildFailed[applier] = count;
        }
    }

    public DiscoverySnapshot Read()
    {
        lock (_gate) return new DiscoverySnapshot(Id, Service, _namespace, ReportsHealth, _status, _counts, _buildFailed.Count == 0 ? 0 : _buildFailed.Values.Max());
    }
}

/// <summary>A consistent reading of a <see cref="DiscoveryInstance"/>.</summary>
internal readonly record struct DiscoverySnapshot(long Id, string Service, string? Namespace, bool ReportsHealth, DiscoveryStatus Status, EndpointCounts Counts, int BuildFailed)
{
    /// <summary>The endpoints the channel gets: the resolved set less those the build refused. The set is all ready or
    /// all serving-and-terminating (the fallback is used only when no endpoint is ready), so one of the two is reduced.</summary>
    public (int Ready, int ServingTerminating) InChannel
    {
        get
        {
            var ready = Math.Max(0, Counts.Ready - BuildFailed);
            var left = BuildFailed - (Counts.Ready - ready);
            return (ready, Math.Max(0, Counts.ServingTerminating - left));
        }
    }

    /// <summary>The size of the channel's address set.</summary>
    public int Usable => InChannel.Ready + InChannel.ServingTerminating;
}
