using k8s;
using k8s.Models;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>An immutable stored EndpointSlice and its wire JSON (serialized once, shared by every watcher).</summary>
internal sealed class StoredObject
{
    public StoredObject(V1EndpointSlice slice, long resourceVersion)
    {
        Slice = slice;
        ResourceVersion = resourceVersion;
        Json = KubernetesJson.Serialize(slice);
    }

    public V1EndpointSlice Slice { get; }

    public long ResourceVersion { get; }

    public string Json { get; }

    public string Namespace => Slice.Metadata.NamespaceProperty;

    public string Name => Slice.Metadata.Name;

    /// <summary>Deep copy through JSON so callers can never mutate stored state.</summary>
    public static V1EndpointSlice Clone(V1EndpointSlice slice) =>
        KubernetesJson.Deserialize<V1EndpointSlice>(KubernetesJson.Serialize(slice));

    public V1EndpointSlice CloneSlice() => Clone(Slice);

    /// <summary>The same object stamped with another resourceVersion (deletions and selector exits carry the event's RV).</summary>
    public StoredObject WithResourceVersion(long resourceVersion)
    {
        var copy = CloneSlice();
        copy.Metadata.ResourceVersion = resourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new StoredObject(copy, resourceVersion);
    }
}
