using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// The baseline: what a simple implementation does. Keeps every slice; on every event projects ALL slices again
/// (parse each IP, resolve the named port, check the conditions), builds the union of ready endpoints from scratch
/// and diffs it against the previous set with HashSets. Ready endpoints only (no terminating fallback, IPv4 only),
/// so it does strictly less than the library per endpoint.
/// </summary>
public sealed class NaiveRecomputeDiff(string portName)
{
    private readonly Dictionary<string, V1EndpointSlice> _slices = new(StringComparer.Ordinal);
    private HashSet<EndPoint> _current = [];

    public IReadOnlyCollection<EndPoint> Current => _current;

    public List<Change<EndPoint>> Apply(SliceEvent sliceEvent)
    {
        ArgumentNullException.ThrowIfNull(sliceEvent);
        switch (sliceEvent.Kind)
        {
            case SliceEventKind.Reset:
                _slices.Clear();
                foreach (var slice in sliceEvent.Slices) _slices[Key(slice)] = slice;
                break;
            case SliceEventKind.Upserted:
                _slices[Key(sliceEvent.Slice!)] = sliceEvent.Slice!;
                break;
            default:
                _slices.Remove(Key(sliceEvent.Slice!));
                break;
        }

        var desired = new HashSet<EndPoint>();
        foreach (var slice in _slices.Values) Project(slice, desired);

        var changes = new List<Change<EndPoint>>();
        foreach (var endpoint in desired)
        {
            if (!_current.Contains(endpoint)) changes.Add(Change.Insert(endpoint));
        }

        foreach (var endpoint in _current)
        {
            if (!desired.Contains(endpoint)) changes.Add(Change.Remove(endpoint));
        }

        _current = desired;
        return changes;
    }

    private void Project(V1EndpointSlice slice, HashSet<EndPoint> into)
    {
        if (slice.AddressType != "IPv4" || slice.Endpoints is null) return;
        var port = slice.Ports?.FirstOrDefault(p => p.Name == portName)?.Port;
        if (port is null) return;
        foreach (var endpoint in slice.Endpoints)
        {
            if (!(endpoint.Conditions?.Ready ?? true) || endpoint.Addresses is null) continue;
            foreach (var address in endpoint.Addresses)
            {
                if (IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork)
                {
                    into.Add(new IPEndPoint(ip, port.Value));
                }
            }
        }
    }

    private static string Key(V1EndpointSlice slice) => $"{slice.Metadata.NamespaceProperty}/{slice.Metadata.Name}";
}
