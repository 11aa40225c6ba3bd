using System.Threading.Channels;
using k8s;
using k8s.Models;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>The server side of one open watch: its filter and the queue of lines its HTTP loop writes.</summary>
internal sealed class Watcher
{
    private readonly Channel<WatchLine> _lines = Channel.CreateUnbounded<WatchLine>(new UnboundedChannelOptions { SingleReader = true });

    public Watcher(long id, string? @namespace, LabelSelector labels, FieldSelector fields)
    {
        Id = id;
        Namespace = @namespace;
        Labels = labels;
        Fields = fields;
    }

    public long Id { get; }

    public string? Namespace { get; }

    public LabelSelector Labels { get; }

    public FieldSelector Fields { get; }

    public ChannelReader<WatchLine> Reader => _lines.Reader;

    public bool Matches(V1EndpointSlice slice) =>
        (Namespace is null || slice.Metadata.NamespaceProperty == Namespace)
        && Fields.Matches(slice.Metadata)
        && Labels.Matches(slice.Metadata.Labels);

    public void Enqueue(WatchLine line) => _lines.Writer.TryWrite(line);

    public void Complete() => _lines.Writer.TryComplete();

    /// <summary>Translates a committed change for this watcher, including selector entries/exits (real cacher semantics).</summary>
    public void Offer(HistoryEntry entry)
    {
        var now = Matches(entry.Object.Slice);
        switch (entry.Type)
        {
            case WatchEventType.Added when now:
                Enqueue(WatchLine.Event(WatchEventType.Added, entry.Object));
                break;
            case WatchEventType.Deleted when now:
                Enqueue(WatchLine.Event(WatchEventType.Deleted, entry.Object));
                break;
            case WatchEventType.Modified:
                var before = entry.Previous is not null && Matches(entry.Previous.Slice);
                if (now && before)
                {
                    Enqueue(WatchLine.Event(WatchEventType.Modified, entry.Object));
                }
                else if (now)
                {
                    // The object starts matching the selector: the watcher sees it appear.
                    Enqueue(WatchLine.Event(WatchEventType.Added, entry.Object));
                }
                else if (before)
                {
                    // The object stops matching: the watcher sees its last matching state deleted at this RV.
                    Enqueue(WatchLine.Event(WatchEventType.Deleted, entry.Previous!.WithResourceVersion(entry.ResourceVersion)));
                }

                break;
        }
    }
}
