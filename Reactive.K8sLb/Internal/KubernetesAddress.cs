namespace Reactive.K8sLb.Internal;

/// <summary>Parses <c>k8s:///service[.namespace][:port-number-or-name]</c> into a <see cref="DiscoveryConfig"/>.</summary>
internal static class KubernetesAddress
{
    public const string Grammar = "k8s:///service[.namespace][:port-number-or-name]";

    /// <summary>Parses an address.</summary>
    /// <param name="address">The channel address.</param>
    /// <param name="defaultPort">The port when the address has none.</param>
    /// <param name="configure">Applies the defaults to the parsed parts.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="ArgumentException">The address does not follow the grammar.</exception>
    public static DiscoveryConfig Parse(Uri address, int defaultPort, Func<string, string?, ServicePort, DiscoveryConfig> configure)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || !string.Equals(address.Scheme, KubernetesResolverFactory.Scheme, StringComparison.OrdinalIgnoreCase))
            throw Invalid(address, "the scheme must be 'k8s'");
        if (!string.IsNullOrEmpty(address.Host) || !string.IsNullOrEmpty(address.UserInfo))
            throw Invalid(address, $"the authority must be empty (three slashes), but it is '{address.Authority}'");
        if (!string.IsNullOrEmpty(address.Query) || !string.IsNullOrEmpty(address.Fragment))
            throw Invalid(address, "a query or fragment is not allowed");

        var path = address.AbsolutePath.TrimStart('/');
        if (path.Length == 0) throw Invalid(address, "the service name is missing");
        if (path.Contains('/', StringComparison.Ordinal)) throw Invalid(address, "the path must be a single segment");

        var hostPart = path;
        ServicePort port;
        var colon = path.LastIndexOf(':');
        try
        {
            if (colon >= 0)
            {
                hostPart = path[..colon];
                var portText = path[(colon + 1)..];
                if (portText.Length == 0) throw Invalid(address, "the port after ':' is empty");
                port = ServicePort.Parse(portText);
            }
            else
            {
                port = ServicePort.FromNumber(defaultPort);
            }

            var labels = hostPart.Split('.');
            if (labels.Length > 2) throw Invalid(address, $"'{hostPart}' has more than two labels; write service or service.namespace");
            if (labels.Any(l => l.Length == 0)) throw Invalid(address, $"'{hostPart}' has an empty label");
            return configure(labels[0], labels.Length == 2 ? labels[1] : null, port);
        }
        catch (ArgumentException ex) when (ex.ParamName != nameof(address))
        {
            throw Invalid(address, ex.Message, ex);
        }
    }

    private static ArgumentException Invalid(Uri address, string problem, Exception? inner = null) =>
        new($"Invalid Kubernetes address '{address.OriginalString}': {problem}. Expected {Grammar}, e.g. k8s:///greeter.demo:50051 or k8s:///greeter:grpc.", nameof(address), inner);
}
