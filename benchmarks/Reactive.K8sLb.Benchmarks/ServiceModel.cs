using System.Globalization;
using k8s.Models;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// Builds realistic EndpointSlices for one Service the way the EndpointSlice controller writes them: 100 endpoints
/// per slice, IPv4, a named port, full conditions, pod target references, node names and zones.
/// </summary>
public static class ServiceModel
{
    public const string Namespace = "default";
    public const string ServiceName = "greeter";
    public const string PortName = "grpc";
    public const int PortNumber = 50051;
    public const int EndpointsPerSlice = 100;

    /// <summary>The configuration the benchmarks use: the named port, everything else at its default.</summary>
    public static DiscoveryConfig Config { get; } = new(ServiceName, ServicePort.FromName(PortName)) { Namespace = Namespace };

    /// <summary>The slices of a Service of <paramref name="endpointCount"/> endpoints, all ready.</summary>
    public static V1EndpointSlice[] AllReady(int endpointCount) => Build(endpointCount, notReady: static _ => false);

    /// <summary>The slices with the endpoints for which <paramref name="notReady"/> holds flipped to not ready.</summary>
    public static V1EndpointSlice[] Build(int endpointCount, Func<int, bool> notReady)
    {
        ArgumentNullException.ThrowIfNull(notReady);
        var sliceCount = (endpointCount + EndpointsPerSlice - 1) / EndpointsPerSlice;
        var slices = new V1EndpointSlice[sliceCount];
        for (var s = 0; s < sliceCount; s++)
        {
            var first = s * EndpointsPerSlice;
            var count = Math.Min(EndpointsPerSlice, endpointCount - first);
            slices[s] = Slice(s, Enumerable.Range(first, count).Select(i => Endpoint(i, ready: !notReady(i))).ToList());
        }

        return slices;
    }

    /// <summary>Slice <paramref name="sliceIndex"/> of <see cref="AllReady"/>, with endpoint <paramref name="flipped"/> not ready.</summary>
    public static V1EndpointSlice WithOneNotReady(int endpointCount, int sliceIndex, int flipped) =>
        Build(endpointCount, i => i == flipped)[sliceIndex];

    /// <summary>10.(i / 65536).(i / 256 % 256).(i % 256 + 1)-style pod IPs, distinct for every index.</summary>
    public static string Address(int index) => string.Create(
        CultureInfo.InvariantCulture, $"10.{(index >> 16) & 0xff}.{(index >> 8) & 0xff}.{index & 0xff}");

    private static V1EndpointSlice Slice(int sliceIndex, List<V1Endpoint> endpoints) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            Name = string.Create(CultureInfo.InvariantCulture, $"{ServiceName}-{sliceIndex:x5}"),
            NamespaceProperty = Namespace,
            ResourceVersion = string.Create(CultureInfo.InvariantCulture, $"{1000 + sliceIndex}"),
            GenerateName = ServiceName + "-",
            Labels = new Dictionary<string, string>
            {
                ["kubernetes.io/service-name"] = ServiceName,
                ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io",
                ["app"] = ServiceName,
            },
        },
        AddressType = "IPv4",
        Ports = [new Discoveryv1EndpointPort { Name = PortName, Port = PortNumber, Protocol = "TCP", AppProtocol = "kubernetes.io/h2c" }],
        Endpoints = endpoints,
    };

    private static V1Endpoint Endpoint(int index, bool ready) => new()
    {
        Addresses = [Address(index)],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = ready, Terminating = false },
        NodeName = string.Create(CultureInfo.InvariantCulture, $"node-{index % 50}"),
        Zone = string.Create(CultureInfo.InvariantCulture, $"zone-{index % 3}"),
        TargetRef = new V1ObjectReference
        {
            Kind = "Pod",
            NamespaceProperty = Namespace,
            Name = string.Create(CultureInfo.InvariantCulture, $"{ServiceName}-{index:x8}"),
            Uid = Guid.NewGuid().ToString(),
        },
    };
}
