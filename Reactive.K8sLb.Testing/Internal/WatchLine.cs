using System.Globalization;
using k8s;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>One line queued for a watcher, already serialized; <see cref="EndsStream"/> closes the response after it.</summary>
internal sealed record WatchLine(string Text, WatchEventType Type, string? SliceName, long ResourceVersion, bool EndsStream = false, bool Notify = true)
{
    public static WatchLine Event(WatchEventType type, StoredObject obj) =>
        new($"{{\"type\":\"{TypeName(type)}\",\"object\":{obj.Json}}}", type, obj.Slice.Metadata.Name, obj.ResourceVersion);

    public static WatchLine Bookmark(long resourceVersion, bool initialEventsEnd)
    {
        var rv = resourceVersion.ToString(CultureInfo.InvariantCulture);
        var annotations = initialEventsEnd ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : string.Empty;
        return new(
            $"{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":{{\"resourceVersion\":\"{rv}\"{annotations}}}}}}}",
            WatchEventType.Bookmark,
            null,
            resourceVersion);
    }

    public static WatchLine Error(string statusJson) =>
        new($"{{\"type\":\"ERROR\",\"object\":{statusJson}}}", WatchEventType.Error, null, 0, EndsStream: true);

    /// <summary>A line that is not JSON; the client reports it through onError and keeps reading.</summary>
    public static WatchLine Malformed() =>
        new("this is not json {", WatchEventType.Error, null, 0, Notify: false);

    public static string TypeName(WatchEventType type) => type switch
    {
        WatchEventType.Added => "ADDED",
        WatchEventType.Modified => "MODIFIED",
        WatchEventType.Deleted => "DELETED",
        WatchEventType.Bookmark => "BOOKMARK",
        _ => "ERROR",
    };
}
