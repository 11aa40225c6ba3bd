namespace Reactive.K8sLb.Internal;

/// <summary>An EndpointSlice's address type, as an index into per-family state.</summary>
internal enum SliceFamily
{
    IPv4 = 0,
    IPv6 = 1,
    Fqdn = 2,
}
