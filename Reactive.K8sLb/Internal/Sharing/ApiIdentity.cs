using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using k8s;

namespace Reactive.K8sLb.Internal.Sharing;

/// <summary>
/// Who the API server sees, and how it is reached: the part of the sharing key that decides whether two subscriptions
/// may use one Kubernetes client (and so one connection pool and one watch). Three kinds, never equal to each other:
/// <list type="bullet">
/// <item>a client supplied by the user (<c>Observe(config, client)</c>): that instance, by reference;</item>
/// <item>no <see cref="DiscoveryOptions.ClientConfiguration"/>: the ambient configuration (in-cluster, else the default
/// kubeconfig), resolved once per client, which is the same for every subscription of the process;</item>
/// <item>a <see cref="KubernetesClientConfiguration"/>: the values of all its public properties when the subscription
/// starts (host, namespace, token, token provider, user name and password, client certificate and key, CA
/// certificates by thumbprint, TLS settings, timeouts, user agent, handler setup, ...). Strings and values compare by
/// value, certificates by thumbprint, everything else (a token provider, a handler-setup delegate) by
/// <see cref="object.Equals(object)"/>, which for most of them is the instance. Read by reflection, so a property a
/// later KubernetesClient adds is part of the key too. Two configurations that differ in any of them never share.
/// The one exception is <see cref="KubernetesClientConfiguration.JsonSerializerOptions"/>: every configuration has a
/// fresh instance of its own, so it would make every configuration unique; it does not change who the server sees,
/// and the shared client uses the first configuration's.</item>
/// </list>
/// </summary>
internal sealed class ApiIdentity : IEquatable<ApiIdentity>
{
    private static readonly PropertyInfo[] ConfigurationProperties = typeof(KubernetesClientConfiguration)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.PropertyType != typeof(JsonSerializerOptions))
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .ToArray();

    private readonly object?[] _parts;
    private readonly int _hash;

    private ApiIdentity(object?[] parts)
    {
        _parts = parts;
        var hash = default(HashCode);
        foreach (var part in parts) hash.Add(part);
        _hash = hash.ToHashCode();
    }

    /// <summary>The ambient configuration: in-cluster, else the default kubeconfig.</summary>
    public static ApiIdentity Ambient { get; } = new(["ambient"]);

    /// <summary>A client supplied by the user: that instance.</summary>
    public static ApiIdentity ForClient(IKubernetes client) => new(["client", new ByReference(client)]);

    /// <summary>The values of <paramref name="configuration"/> now.</summary>
    public static ApiIdentity ForConfiguration(KubernetesClientConfiguration configuration)
    {
        var parts = new object?[ConfigurationProperties.Length + 1];
        parts[0] = "configuration";
        for (var i = 0; i < ConfigurationProperties.Length; i++)
        {
            parts[i + 1] = Normalize(ConfigurationProperties[i].GetValue(configuration));
        }

        return new(parts);
    }

    /// <summary>The identity of a subscription's configuration and optional client.</summary>
    public static ApiIdentity Of(DiscoveryOptions options, IKubernetes? client) =>
        client is not null ? ForClient(client)
        : options.ClientConfiguration is { } configuration ? ForConfiguration(configuration)
        : Ambient;

    public bool Equals(ApiIdentity? other) =>
        other is not null && (ReferenceEquals(this, other) || (_hash == other._hash && _parts.SequenceEqual(other._parts)));

    public override bool Equals(object? obj) => Equals(obj as ApiIdentity);

    public override int GetHashCode() => _hash;

    private static object? Normalize(object? value) => value switch
    {
        X509Certificate certificate => certificate.GetCertHashString(),
        X509Certificate2Collection certificates => string.Join(",", certificates.Select(c => c.Thumbprint)),
        _ => value,
    };

    /// <summary>Compares by instance, whatever the type's own equality.</summary>
    private sealed class ByReference(object value) : IEquatable<ByReference>
    {
        public bool Equals(ByReference? other) => other is not null && ReferenceEquals(value, other.Value);

        public override bool Equals(object? obj) => Equals(obj as ByReference);

        public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(value);

        private object Value => value;
    }
}
