namespace Reactive.K8sLb.Internal.Topology;

/// <summary>The immutable snapshot of <see cref="TopologyOptions"/> a balancer uses, with the client's location taken
/// from the environment where the options leave it open.</summary>
/// <param name="Mode">How topology narrows the endpoints.</param>
/// <param name="Zone">The client's zone, or <see langword="null"/> when unknown.</param>
/// <param name="Node">The client's node, or <see langword="null"/> when unknown.</param>
/// <param name="MinLocalShare">See <see cref="TopologyOptions.MinLocalShare"/>.</param>
internal sealed record TopologyPolicy(TopologyMode Mode, string? Zone, string? Node, double? MinLocalShare)
{
    /// <summary>Whether the client's location is known well enough for topology to matter.</summary>
    public bool IsActive => Mode != TopologyMode.Off && (Zone is not null || Node is not null);

    /// <summary>The defaults, with the location from the process environment (read now).</summary>
    public static TopologyPolicy FromEnvironment() => From(new TopologyOptions());

    /// <summary>Copies the options, reading the location from <paramref name="environment"/> where they leave it open.</summary>
    /// <param name="options">The options.</param>
    /// <param name="environment">Reads an environment variable; <see langword="null"/> for the process environment.</param>
    public static TopologyPolicy From(TopologyOptions options, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        environment ??= Environment.GetEnvironmentVariable;
        return new TopologyPolicy(
            options.Mode,
            NullIfEmpty(options.Zone ?? environment(TopologyOptions.ZoneVariable)),
            NullIfEmpty(options.NodeName ?? environment(TopologyOptions.NodeNameVariable)),
            options.MinLocalShare);
    }

    /// <summary>Where an endpoint is relative to the client, for the <c>k8slb.locality</c> tag.</summary>
    public string LocalityOf(KubernetesEndpoint? endpoint)
    {
        if (Zone is null || string.IsNullOrEmpty(endpoint?.Zone)) return Locality.Unknown;
        return string.Equals(endpoint.Zone, Zone, StringComparison.Ordinal) ? Locality.SameZone : Locality.OtherZone;
    }

    // Trimmed: a Downward API value is exact, but a hand-set variable may carry stray spaces.
    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>The values of the <c>k8slb.locality</c> tag.</summary>
internal static class Locality
{
    /// <summary>The endpoint is in the client's zone.</summary>
    public const string SameZone = "same_zone";

    /// <summary>The endpoint is in another zone.</summary>
    public const string OtherZone = "other_zone";

    /// <summary>The client's or the endpoint's zone is unknown.</summary>
    public const string Unknown = "unknown";
}
