namespace Reactive.K8sLb;

/// <summary>How discovery is doing right now.</summary>
public enum DiscoveryHealth
{
    /// <summary>No complete snapshot yet and no failure so far.</summary>
    Connecting = 0,

    /// <summary>The source is delivering: the endpoint set is current.</summary>
    Healthy = 1,

    /// <summary>The source is failing and retrying; the last known endpoints stay in force.</summary>
    Failing = 2,
}
