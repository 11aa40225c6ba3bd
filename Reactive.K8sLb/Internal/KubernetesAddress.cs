using System.Diagnostics.CodeAnalysis;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Parses <c>k8s:///service[.namespace[.svc[.cluster-domain]]][:port-number-or-name]</c> into a
/// <see cref="DiscoveryConfig"/>. The host part is a Service's DNS name, short or fully qualified:
/// <c>greeter</c>, <c>greeter.demo</c>, <c>greeter.demo.svc</c> and <c>greeter.demo.svc.cluster.local</c> (any cluster
/// domain) all name the Service; the cluster domain is checked for syntax only, never compared with the cluster's.
/// </summary>
internal static class KubernetesAddress
{
    public const string Grammar = "k8s:///service[.namespace[.svc[.<cluster-domain>]]][:port-number-or-name]";

    private static readonly System.Buffers.SearchValues<char> Rfc1123Chars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");

    private const string DefaultPortOption = $"{nameof(KubernetesLoadBalancingOptions)}.{nameof(KubernetesLoadBalancingOptions.DefaultPort)}";

    /// <summary>Parses an address.</summary>
    /// <param name="address">The channel address.</param>
    /// <param name="defaultPort">The port when the address has none; <see langword="null"/> makes a missing port an
    /// error.</param>
    /// <param name="configure">Applies the defaults to the parsed parts (service, namespace or <see langword="null"/>,
    /// port).</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException">The address does not follow the grammar, or it has no port and
    /// <paramref name="defaultPort"/> is <see langword="null"/>; the message names the address and the rule.</exception>
    public static DiscoveryConfig Parse(Uri address, ServicePort? defaultPort, Func<string, string?, ServicePort, DiscoveryConfig> configure)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(configure);
        if (defaultPort is { IsDefault: true })
        {
            throw new ArgumentException(
                $"{DefaultPortOption} is default(ServicePort), which is not a port; use ServicePort.FromNumber, ServicePort.FromName or ServicePort.Parse, or null to require a port in every address.",
                nameof(defaultPort));
        }

        if (!address.IsAbsoluteUri || !string.Equals(address.Scheme, KubernetesResolverFactory.Scheme, StringComparison.OrdinalIgnoreCase))
            throw Invalid(address, "the scheme must be 'k8s'");
        if (!string.IsNullOrEmpty(address.Host) || !string.IsNullOrEmpty(address.UserInfo))
            throw Invalid(address, $"the authority must be empty (three slashes), but it is '{address.Authority}'");
        if (!string.IsNullOrEmpty(address.Query) || !string.IsNullOrEmpty(address.Fragment))
            throw Invalid(address, "a query or fragment is not allowed");

        var path = address.AbsolutePath.TrimStart('/');
        if (path.Length == 0) throw Invalid(address, "the service name is missing");
        if (path.Contains('/', StringComparison.Ordinal)) throw Invalid(address, "the path must be a single segment");

        var colon = path.LastIndexOf(':');
        var hostPart = colon >= 0 ? path[..colon] : path;
        if (hostPart.Length == 0) throw Invalid(address, "the service name is missing");
        if (!TrySplitHost(hostPart, out var service, out var ns, out var hostError)) throw Invalid(address, hostError);

        ServicePort port;
        if (colon >= 0)
        {
            var portText = path.AsSpan(colon + 1);
            if (portText.IsEmpty) throw Invalid(address, "the port after ':' is empty");
            if (!ServicePort.TryParse(portText, out port, out var portError)) throw Invalid(address, portError.TrimEnd('.'));
        }
        else if (defaultPort is { } fallback)
        {
            port = fallback;
        }
        else
        {
            throw Invalid(address, $"the port is missing; add :port (a number or a port name, e.g. k8s:///{hostPart}:grpc) or set {DefaultPortOption}");
        }

        try
        {
            return configure(service, ns, port);
        }
        catch (ArgumentException ex) when (ex.ParamName != nameof(address))
        {
            // The service or namespace breaks a naming rule of DiscoveryConfig; the message names the rule.
            throw Invalid(address, ex.Message, ex);
        }
    }

    /// <summary>Splits <c>service[.namespace[.svc[.cluster-domain]]]</c>.</summary>
    private static bool TrySplitHost(string host, out string service, out string? ns, [NotNullWhen(false)] out string? error)
    {
        service = string.Empty;
        ns = null;
        var labels = host.Split('.');
        if (labels.Any(l => l.Length == 0))
        {
            error = $"'{host}' has an empty label";
            return false;
        }

        if (labels.Length > 2 && !string.Equals(labels[2], "svc", StringComparison.Ordinal))
        {
            error = $"'{host}' has more than two labels, so the third must be 'svc' (service.namespace.svc[.<cluster-domain>]), but it is '{labels[2]}'";
            return false;
        }

        for (var i = 3; i < labels.Length; i++)
        {
            if (!IsRfc1123Label(labels[i]))
            {
                error = $"the cluster domain label '{labels[i]}' in '{host}' must be an RFC 1123 label: 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit";
                return false;
            }
        }

        service = labels[0];
        ns = labels.Length > 1 ? labels[1] : null;
        error = null;
        return true;
    }

    private static bool IsRfc1123Label(string label) =>
        label.Length <= 63
        && !label.AsSpan().ContainsAnyExcept(Rfc1123Chars)
        && label[0] != '-'
        && label[^1] != '-';

    private static ArgumentException Invalid(Uri address, string problem, Exception? inner = null) =>
        new($"Invalid Kubernetes address '{address.OriginalString}': {problem}. Expected {Grammar}, e.g. k8s:///greeter.demo:50051, k8s:///greeter.demo.svc.cluster.local:grpc or k8s:///greeter:grpc.", nameof(address), inner);
}
