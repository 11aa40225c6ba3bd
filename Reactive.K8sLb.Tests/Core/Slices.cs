using k8s.Models;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>Builds <see cref="V1EndpointSlice"/> objects for tests.</summary>
internal static class Slices
{
    public const string Namespace = "default";

    /// <summary>An endpoint with the given addresses and conditions (null means "not set").</summary>
    public static V1Endpoint Endpoint(string address, bool? ready = true, bool? serving = null, bool? terminating = null) =>
        Endpoint([address], ready, serving, terminating);

    public static V1Endpoint Endpoint(string[] addresses, bool? ready = true, bool? serving = null, bool? terminating = null) =>
        new()
        {
            Addresses = addresses,
            Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
        };

    /// <summary>An endpoint without any conditions object.</summary>
    public static V1Endpoint EndpointWithoutConditions(string address) => new() { Addresses = [address] };

    /// <summary>A terminating endpoint that still serves (the fallback candidate).</summary>
    public static V1Endpoint Terminating(string address) => Endpoint(address, ready: false, serving: true, terminating: true);

    public static V1EndpointSlice Slice(
        string name,
        IEnumerable<V1Endpoint> endpoints,
        string addressType = "IPv4",
        IEnumerable<(string? Name, int Port)>? ports = null,
        string? uid = null,
        string ns = Namespace) =>
        new()
        {
            AddressType = addressType,
            Endpoints = endpoints.ToList(),
            Ports = (ports ?? [("grpc", 8080)]).Select(p => new Discoveryv1EndpointPort { Name = p.Name, Port = p.Port }).ToList(),
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = uid ?? name + "-uid" },
        };

    /// <summary>A slice whose endpoints are all ready.</summary>
    public static V1EndpointSlice Ready(string name, params string[] addresses) => Slice(name, addresses.Select(a => Endpoint(a)));

    public static V1EndpointSlice ReadyV6(string name, params string[] addresses) => Slice(name, addresses.Select(a => Endpoint(a)), "IPv6");
}
