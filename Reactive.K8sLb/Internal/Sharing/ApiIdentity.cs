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
/// <item>a <see cref="KubernetesClientConfiguration"/>: the values of all its public properties when the identity is
/// taken (host, namespace, token, token provider, user name and password, client certificate and key, CA
/// certificates by thumbprint, TLS settings, timeouts, user agent, handler setup, ...). Strings and values compare by
/// value, certificates by thumbprint, everything else (a token provider, a handler-setup delegate) by
/// <see cref="object.Equals(object)"/>, which for most of them is the instance. Read by reflection, so a property a
/// later KubernetesClient adds is part of the key too. Two configurations that differ in any of them never share.
/// The one exception is <see cref="KubernetesClientConfiguration.JsonSerializerOptions"/>: every configuration has a
/// fresh instance of its own, so it would make every configuration unique; it does not change who the server sees,
/// and the shared client uses the first configuration's.</item>
/// </list>
/// <para>
/// The caller's configuration is mutable, so the identity is taken once and carried, with a private copy of the values
/// it was taken from (<see cref="Configuration"/>): a client is only ever built from that copy, so the client filed
/// under an identity is always one for that identity, whatever the caller changes afterwards. The identity of such a
/// copy is the identity it belongs to.
/// </para>
/// </summary>
internal sealed class ApiIdentity : IEquatable<ApiIdentity>
{
    private static readonly PropertyInfo[] ConfigurationProperties = typeof(KubernetesClientConfiguration)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0)
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .ToArray();

    private static readonly PropertyInfo[] IdentityProperties =
        ConfigurationProperties.Where(p => p.PropertyType != typeof(JsonSerializerOptions)).ToArray();

    private readonly object?[] _parts;
    private readonly int _hash;
    private readonly Func<KubernetesClientConfiguration>? _resolve;

    private ApiIdentity(object?[] parts, Snapshot? configuration = null, Func<KubernetesClientConfiguration>? resolve = null)
    {
        _parts = parts;
        _resolve = resolve;
        Configuration = configuration;
        var hash = default(HashCode);
        foreach (var part in parts) hash.Add(part);
        _hash = hash.ToHashCode();
    }

    /// <summary>The ambient configuration: in-cluster, else the default kubeconfig.</summary>
    public static ApiIdentity Ambient { get; } = new(["ambient"], resolve: static () => KubernetesClientConfiguration.IsInCluster()
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildDefaultConfig());

    /// <summary>
    /// For a configuration identity, the private copy of the values the identity was taken from: the configuration
    /// every client for this identity is built from. Never handed to the caller, never changed.
    /// </summary>
    public KubernetesClientConfiguration? Configuration { get; }

    /// <summary>Whether the identity is a client supplied by the user (the library builds no client for it).</summary>
    public bool IsUsersClient => _resolve is null && Configuration is null;

    /// <summary>A client supplied by the user: that instance.</summary>
    public static ApiIdentity ForClient(IKubernetes client) => new(["client", new ByReference(client)]);

    /// <summary>The values of <paramref name="configuration"/> now (or, for a copy this class made, its identity).</summary>
    public static ApiIdentity ForConfiguration(KubernetesClientConfiguration configuration)
    {
        if (configuration is Snapshot snapshot) return snapshot.Identity;

        // The identity is read from the copy, not from the caller's object: whatever the caller changes meanwhile,
        // identity and copy agree.
        var copy = Snapshot.Of(configuration);
        var parts = new object?[IdentityProperties.Length + 1];
        parts[0] = "configuration";
        for (var i = 0; i < IdentityProperties.Length; i++)
        {
            parts[i + 1] = Normalize(IdentityProperties[i].GetValue(copy));
        }

        var identity = new ApiIdentity(parts, copy);
        copy.Identity = identity;
        return identity;
    }

    /// <summary>
    /// An identity of its own whose configuration <paramref name="resolve"/> produces when a client is built, as the
    /// ambient one resolves in-cluster or kubeconfig settings. Internal for testing (a slow or failing resolution).
    /// </summary>
    internal static ApiIdentity Resolved(Func<KubernetesClientConfiguration> resolve) => new(["resolved", new ByReference(resolve)], resolve: resolve);

    /// <summary>The identity of a subscription's configuration and optional client, taken now.</summary>
    public static ApiIdentity Of(DiscoveryOptions options, IKubernetes? client) =>
        client is not null ? ForClient(client)
        : options.ClientConfiguration is { } configuration ? ForConfiguration(configuration)
        : Ambient;

    /// <summary>
    /// The configuration to build a client from: the copy of a configuration identity, or the ambient configuration
    /// resolved now (which may run an exec credential plugin or read files: never call it under a shared lock).
    /// </summary>
    /// <exception cref="InvalidOperationException">A user's client: the library builds none.</exception>
    public KubernetesClientConfiguration ResolveConfiguration() =>
        Configuration ?? _resolve?.Invoke() ?? throw new InvalidOperationException("A client supplied by the user has no configuration to build a client from.");

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

    /// <summary>A private copy of a caller's configuration, which knows the identity it was taken for.</summary>
    private sealed class Snapshot : KubernetesClientConfiguration
    {
        public ApiIdentity Identity { get; set; } = null!;

        /// <summary>
        /// Every readable property with a setter (a non-public one too: <see cref="JsonSerializerOptions"/> and
        /// <c>CurrentContext</c> have private setters); the CA collection is copied, as the caller may add to it later.
        /// A property without any setter cannot be copied, and is then read from the copy for the identity as well.
        /// </summary>
        public static Snapshot Of(KubernetesClientConfiguration source)
        {
            var copy = new Snapshot();
            foreach (var property in ConfigurationProperties)
            {
                if (property.GetSetMethod(nonPublic: true) is not { } setter) continue;
                var value = property.GetValue(source);
                if (value is X509Certificate2Collection certificates) value = new X509Certificate2Collection(certificates);
                setter.Invoke(copy, [value]);
            }

            return copy;
        }
    }
}
