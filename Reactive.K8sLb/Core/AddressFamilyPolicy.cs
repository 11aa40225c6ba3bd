namespace Reactive.K8sLb;

/// <summary>Which EndpointSlices contribute endpoints, by their <c>addressType</c>.</summary>
public enum AddressFamilyPolicy
{
    /// <summary>
    /// IPv4 slices when the Service has any (so a dual-stack pod is counted once); otherwise whatever exists (IPv6 and
    /// FQDN slices). This is the default.
    /// </summary>
    PreferIPv4 = 0,

    /// <summary>IPv4 slices only.</summary>
    IPv4Only = 1,

    /// <summary>IPv6 slices only.</summary>
    IPv6Only = 2,

    /// <summary>Every slice: IPv4, IPv6 and FQDN. A dual-stack pod then appears once per address family.</summary>
    Any = 3,
}
