using System.Globalization;
using System.Net;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>The default endpoint-to-address mapping.</summary>
internal static class BalancerAddresses
{
    /// <summary>An <see cref="IPEndPoint"/> becomes its address text and port (grpc-dotnet addresses are
    /// <see cref="DnsEndPoint"/>s, an IP goes in as host text); a <see cref="DnsEndPoint"/> its host and port.</summary>
    public static Func<EndPoint, BalancerAddress> Default { get; } = FromEndPoint;

    private static BalancerAddress FromEndPoint(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => new BalancerAddress(ip.Address.ToString(), ip.Port),
        DnsEndPoint dns => new BalancerAddress(dns.Host, dns.Port),
        null => throw new ArgumentNullException(nameof(endPoint)),
        _ => throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"Cannot map a {endPoint.GetType().Name} ({endPoint}) to a BalancerAddress: only IPEndPoint and DnsEndPoint are supported; pass a custom build function."),
            nameof(endPoint)),
    };
}
