using System.Collections;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The logging scope every message of one discovery carries: the Service and its namespace, as structured values
/// (<c>k8s.service.name</c>, <c>k8s.namespace.name</c>, which OpenTelemetry's logging exporter turns into attributes)
/// and as text ("Service ns/name") for console scopes. The namespace is filled in once the client knows it.
/// </summary>
internal sealed class ServiceLogScope(string service, string? @namespace) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private volatile string? _namespace = @namespace;

    public string Service { get; } = service;

    public string? Namespace
    {
        get => _namespace;
        set => _namespace = value ?? _namespace;
    }

    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new(K8sLbTelemetry.ServiceNameTag, Service),
        1 => new(K8sLbTelemetry.NamespaceTag, _namespace),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => _namespace is { } ns ? $"Service {ns}/{Service}" : $"Service {Service}";
}
