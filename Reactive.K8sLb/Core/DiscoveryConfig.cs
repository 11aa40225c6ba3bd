using System.Text.RegularExpressions;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb;

/// <summary>
/// What to discover and how: the Service and port, plus the settings of <see cref="DiscoveryOptions"/> (which endpoints
/// count, timing and the Kubernetes connection). Every option has a documented default; a value that breaks its own
/// rule throws when it is set, naming the field; rules between fields are checked when the configuration is first used.
/// </summary>
public sealed partial class DiscoveryConfig : DiscoveryOptions
{
    private readonly string? _namespace;

    /// <summary>Creates a configuration for a Service and port.</summary>
    /// <param name="serviceName">The Service's name: an RFC 1035 label (lower-case letters, digits and '-', starting
    /// with a letter, ending with a letter or digit, at most 63 characters).</param>
    /// <param name="port">The port number, or the port name looked up in each EndpointSlice.</param>
    /// <exception cref="ArgumentException">The service name or port is invalid.</exception>
    public DiscoveryConfig(string serviceName, ServicePort port)
    {
        ValidateIdentity(serviceName, port);
        ServiceName = serviceName;
        Port = port;
    }

    /// <summary>Creates a configuration for a Service and a port given by name (looked up in each EndpointSlice).</summary>
    /// <param name="serviceName">The Service's name (an RFC 1035 label).</param>
    /// <param name="portName">The port's name, an IANA service name such as <c>grpc</c>.</param>
    /// <exception cref="ArgumentException">The service name or port name is invalid.</exception>
    public DiscoveryConfig(string serviceName, string portName)
        : this(serviceName, ServicePort.FromName(portName ?? throw new ArgumentNullException(nameof(portName))))
    {
    }

    /// <summary>Creates a configuration for a Service and a port number used as is.</summary>
    /// <param name="serviceName">The Service's name (an RFC 1035 label).</param>
    /// <param name="portNumber">The port number, 1..65535.</param>
    /// <exception cref="ArgumentException">The service name is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The port number is outside 1..65535.</exception>
    public DiscoveryConfig(string serviceName, int portNumber)
        : this(serviceName, ServicePort.FromNumber(portNumber))
    {
    }

    private static void ValidateIdentity(string serviceName, ServicePort port)
    {
        ArgumentNullException.ThrowIfNull(serviceName);
        if (!Rfc1035Label().IsMatch(serviceName))
        {
            throw new ArgumentException(
                $"ServiceName '{serviceName}' must be an RFC 1035 label: 1-63 lower-case letters, digits or '-', starting with a letter and ending with a letter or digit.",
                nameof(serviceName));
        }

        if (port.IsDefault)
        {
            throw new ArgumentException("Port must be a number (1-65535) or an IANA port name; default(ServicePort) is not a port.", nameof(port));
        }
    }

    /// <summary>The Service whose EndpointSlices are watched.</summary>
    public string ServiceName { get; }

    /// <summary>The port to connect to: a number used as is, or a name looked up in each slice.</summary>
    public ServicePort Port { get; }

    /// <summary>
    /// The Service's namespace. The default value is <see langword="null"/>: the client configuration's namespace
    /// (the in-cluster service-account namespace or the kubeconfig context's), else <c>default</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Not an RFC 1123 label.</exception>
    public string? Namespace
    {
        get => _namespace;
        init
        {
            if (value is not null && !Rfc1123Label().IsMatch(value))
            {
                throw new ArgumentException(
                    $"Namespace '{value}' must be an RFC 1123 label: 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit.",
                    nameof(Namespace));
            }

            _namespace = value;
        }
    }

    /// <summary>Returns <c>service.namespace:port</c>, with <c>?</c> for a namespace not yet known.</summary>
    /// <returns>A readable description.</returns>
    public override string ToString() => $"{ServiceName}.{Namespace ?? "?"}:{Port}";

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc1035Label();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc1123Label();

    /// <summary>The logger factory whose messages carry this Service and namespace (a new scope each call).</summary>
    internal ServiceScopedLoggerFactory CreateScopedLoggerFactory() =>
        new(EffectiveLoggerFactory, new ServiceLogScope(ServiceName, Namespace));
}
