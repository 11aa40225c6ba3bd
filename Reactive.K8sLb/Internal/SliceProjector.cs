using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Turns one EndpointSlice into endpoints with their metadata (<see cref="KubernetesEndpoint"/>), following the discovery.k8s.io/v1 semantics: <c>ready == null</c> means
/// ready, <c>serving == null</c> defers to ready, <c>terminating == null</c> means false. Warnings about a slice are
/// logged once per slice (until it is forgotten), so a bad slice that keeps being modified does not flood the log.
/// </summary>
internal sealed class SliceProjector(ServicePort port, ILogger logger)
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    public ProjectedSlice Project(string key, V1EndpointSlice slice)
    {
        var family = slice.AddressType switch
        {
            "IPv4" => SliceFamily.IPv4,
            "IPv6" => SliceFamily.IPv6,
            "FQDN" => SliceFamily.Fqdn,
            _ => (SliceFamily?)null,
        };
        if (family is null)
        {
            WarnOnce(key, "type", () => Log.UnknownAddressType(logger, key, slice.AddressType));
            return new ProjectedSlice(null, [], [], hasPort: false, unusable: Keys(slice.Endpoints));
        }

        // A slice without endpoints (the EndpointSlice controller's placeholder for a Service with no pods has
        // `ports: []` too) says nothing about the port: no warning, and it does not count as "port not found".
        if (slice.Endpoints is null || slice.Endpoints.Count == 0) return new ProjectedSlice(family, [], []);
        var portNumber = ResolvePort(key, slice);
        if (portNumber is null) return new ProjectedSlice(family, [], [], hasPort: false, unusable: Keys(slice.Endpoints));

        List<KubernetesEndpoint>? ready = null, fallback = null, notReady = null;
        List<string>? unusable = null;
        foreach (var endpoint in slice.Endpoints)
        {
            if (endpoint?.Addresses is null) continue;

            var conditions = endpoint.Conditions;
            var isReady = conditions?.Ready ?? true;
            var isServing = conditions?.Serving ?? isReady;
            var isTerminating = conditions?.Terminating ?? false;

            // An endpoint's addresses are fungible (one pod): use the first valid one, as kube-proxy does, so a pod
            // listing several addresses does not get several shares of the traffic.
            EndPoint? parsed = null;
            foreach (var address in endpoint.Addresses)
            {
                parsed = Parse(family.Value, address, portNumber.Value);
                if (parsed is not null) break;
                WarnOnce(key, "address " + address, () => Log.InvalidAddress(logger, key, slice.AddressType, address));
            }

            if (parsed is null)
            {
                if (KeyOf(endpoint) is { } unparsed) (unusable ??= []).Add(unparsed);
                continue;
            }

            var pod = endpoint.TargetRef is { Kind: "Pod" } target ? target : null;
            var described = new KubernetesEndpoint(parsed)
            {
                PodName = pod?.Name,
                PodNamespace = pod?.NamespaceProperty,
                NodeName = endpoint.NodeName,
                Zone = endpoint.Zone,
                Hostname = endpoint.Hostname,
                SliceName = slice.Metadata?.Name,
                Ready = isReady,
                Serving = isServing,
                Terminating = isTerminating,
                ZoneHints = Names(endpoint.Hints?.ForZones?.Select(z => z?.Name)),
                NodeHints = Names(endpoint.Hints?.ForNodes?.Select(n => n?.Name)),
            };
            (isReady ? ready ??= [] : isServing && isTerminating ? fallback ??= [] : notReady ??= []).Add(described);
        }

        return new ProjectedSlice(family, Distinct(ready), Distinct(fallback), notReady: Distinct(notReady), unusable: unusable?.Distinct(StringComparer.Ordinal).ToArray());
    }

    /// <summary>One entry per <see cref="EndPoint"/> (the first listed wins).</summary>
    private static KubernetesEndpoint[] Distinct(List<KubernetesEndpoint>? endpoints) =>
        endpoints?.Distinct(KubernetesEndpoint.ByEndPoint).ToArray() ?? [];

    private static string[] Names(IEnumerable<string?>? names) => names is null ? [] : [.. names.OfType<string>()];

    /// <summary>An endpoint that yields no <see cref="EndPoint"/>, for counting: its first address text.</summary>
    private static string? KeyOf(V1Endpoint? endpoint) => endpoint?.Addresses?.FirstOrDefault(a => !string.IsNullOrEmpty(a));

    private static string[] Keys(IList<V1Endpoint>? endpoints) =>
        endpoints is null ? [] : [.. endpoints.Select(KeyOf).OfType<string>().Distinct(StringComparer.Ordinal)];

    /// <summary>Forgets a deleted slice, so that a new slice of the same name is warned about again.</summary>
    public void Forget(string key) => _warned.RemoveWhere(w => w.StartsWith(key + "|", StringComparison.Ordinal));

    private int? ResolvePort(string key, V1EndpointSlice slice)
    {
        if (port.Number is { } number) return number;

        var match = slice.Ports?.FirstOrDefault(p => p is not null && string.Equals(p.Name, port.Name, StringComparison.Ordinal));
        if (match?.Port is { } resolved and >= 1 and <= 65535) return resolved;

        WarnOnce(key, "port", () => Log.NamedPortMissing(logger, key, port.Name!));
        return null;
    }

    private static EndPoint? Parse(SliceFamily family, string? address, int portNumber)
    {
        if (string.IsNullOrWhiteSpace(address)) return null;
        switch (family)
        {
            case SliceFamily.Fqdn:
                return Uri.CheckHostName(address) == UriHostNameType.Dns ? new DnsEndPoint(address.TrimEnd('.').ToLowerInvariant(), portNumber) : null;
            case SliceFamily.IPv4:
                return ParseDottedDecimal(address) is { } v4 ? new IPEndPoint(v4, portNumber) : null;
            default:
                return IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
                    ? new IPEndPoint(ip, portNumber)
                    : null;
        }
    }

    // IPAddress.TryParse accepts "1", "1.2" and "0x7f.1", and reads "010" as octal (010.0.0.1 -> 8.0.0.1). Kubernetes
    // writes dotted quads and its legacy validation reads leading zeros as decimal: do exactly that.
    // One pass without allocations: this runs for every endpoint of every projected slice.
    private static IPAddress? ParseDottedDecimal(string text)
    {
        Span<byte> octets = stackalloc byte[4];
        int octet = 0, value = 0, digits = 0;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (digits == 0 || octet == 3) return null;
                octets[octet++] = (byte)value;
                value = digits = 0;
            }
            else if (char.IsAsciiDigit(c) && ++digits <= 3 && (value = (value * 10) + (c - '0')) <= 255)
            {
                continue;
            }
            else
            {
                return null;
            }
        }

        if (octet != 3 || digits == 0) return null;
        octets[3] = (byte)value;
        return new IPAddress(octets);
    }

    private void WarnOnce(string key, string what, Action log)
    {
        if (_warned.Add(key + "|" + what)) log();
    }
}
