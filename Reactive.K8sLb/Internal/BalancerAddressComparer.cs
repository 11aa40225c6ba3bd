using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>Attribute equality of balancer addresses (grpc-dotnet's own comparer is internal).</summary>
internal static class BalancerAddressComparer
{
    /// <summary>Whether both addresses carry equal attributes (values compared with <see cref="object.Equals(object, object)"/>).</summary>
    public static bool SameAttributes(BalancerAddress a, BalancerAddress b)
    {
        IReadOnlyDictionary<string, object?> x = a.Attributes, y = b.Attributes;
        if (x.Count != y.Count) return false;
        foreach (var (key, value) in x)
        {
            if (!y.TryGetValue(key, out var other) || !Equals(value, other)) return false;
        }

        return true;
    }
}
