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
    private EndpointCounts _counts;
    private int _buildFailed;

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

    /// <summary>How many endpoints the <c>build</c> function refused (threw or returned null) in the set applied last.</summary>
    public void SetBuildFailed(int count)
    {
        lock (_gate) _buildFailed = count;
    }

    public DiscoverySnapshot Read()
    {
        lock (_gate) return new DiscoverySnapshot(Service, _namespace, ReportsHealth, _status, _counts, _buildFailed);
    }
}

/// <summary>A consistent reading of a <see cref="DiscoveryInstance"/>.</summary>
internal readonly record struct DiscoverySnapshot(string Service, string? Namespace, bool ReportsHealth, DiscoveryStatus Status, EndpointCounts Counts, int BuildFailed);
