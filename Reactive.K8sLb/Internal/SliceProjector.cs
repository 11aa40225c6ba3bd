using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Turns one EndpointSlice into endpoints, following the discovery.k8s.io/v1 semantics: <c>ready == null</c> means
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
            return ProjectedSlice.None;
        }

        var portNumber = ResolvePort(key, slice);
        if (portNumber is null || slice.Endpoints is null || slice.Endpoints.Count == 0)
        {
            return new ProjectedSlice(family, [], []);
        }

        List<EndPoint>? ready = null, fallback = null;
        foreach (var endpoint in slice.Endpoints)
        {
            if (endpoint?.Addresses is null) continue;

            var conditions = endpoint.Conditions;
            var isReady = conditions?.Ready ?? true;
            var isServing = conditions?.Serving ?? isReady;
            var isTerminating = conditions?.Terminating ?? false;
            if (!isReady && !(isServing && isTerminating)) continue;

            foreach (var address in endpoint.Addresses)
            {
                var parsed = Parse(family.Value, address, portNumber.Value);
                if (parsed is null)
                {
                    WarnOnce(key, "address " + address, () => Log.InvalidAddress(logger, key, slice.AddressType, address));
                    continue;
                }

                (isReady ? ready ??= [] : fallback ??= []).Add(parsed);
            }
        }

        return new ProjectedSlice(family, ready?.Distinct().ToArray() ?? [], fallback?.Distinct().ToArray() ?? []);
    }

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
            default:
                var expected = family == SliceFamily.IPv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                return IPAddress.TryParse(address, out var ip) && ip.AddressFamily == expected && IsCanonical(address, ip)
                    ? new IPEndPoint(ip, portNumber)
                    : null;
        }
    }

    // IPAddress.TryParse accepts "1", "1.2" and "0x7f.1": Kubernetes only ever writes dotted quads / RFC 5952 text.
    // A plain loop: this runs for every address of every projected slice, and LINQ over a string boxes an enumerator.
    private static bool IsCanonical(string text, IPAddress ip)
    {
        if (ip.AddressFamily == AddressFamily.InterNetworkV6) return true;
        var dots = 0;
        foreach (var c in text)
        {
            if (c == '.') dots++;
            else if (!char.IsAsciiDigit(c)) return false;
        }

        return dots == 3;
    }

    private void WarnOnce(string key, string what, Action log)
    {
        if (_warned.Add(key + "|" + what)) log();
    }
}
