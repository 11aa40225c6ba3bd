using System.Globalization;
using k8s;
using k8s.Models;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>
/// The emulated etcd + watch cache: EndpointSlices keyed by namespace/name, one global resourceVersion, a bounded
/// event history and the open watchers. Every member must be called while holding <see cref="Gate"/>, the single
/// lock of the emulator (the service models share it so a multi-slice change is atomic for readers).
/// </summary>
internal sealed class ObjectStore
{
    private static readonly IComparer<(string, string)> KeyOrder =
        Comparer<(string Ns, string Name)>.Create((a, b) =>
        {
            var c = string.CompareOrdinal(a.Ns, b.Ns);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

    private readonly SortedDictionary<(string Ns, string Name), StoredObject> _objects = new(KeyOrder);
    private readonly LinkedList<HistoryEntry> _history = new();
    private readonly List<Watcher> _watchers = [];
    private readonly int _historyLimit;
    private readonly TimeProvider _time;
    private long _compactedRevision;

    public ObjectStore(int historyLimit, TimeProvider time)
    {
        _historyLimit = historyLimit;
        _time = time;
    }

    public object Gate { get; } = new();

    public long ResourceVersion { get; private set; }

    /// <summary>Gets the oldest resourceVersion a watch may resume from (history before it is compacted).</summary>
    public long CompactedRevision => _compactedRevision;

    public IEnumerable<Watcher> Watchers => _watchers;

    public StoredObject? Get(string @namespace, string name) =>
        _objects.TryGetValue((@namespace, name), out var o) ? o : null;

    /// <summary>Creates or replaces an object; stamps server-owned metadata and bumps the resourceVersion once.</summary>
    public StoredObject Put(V1EndpointSlice slice)
    {
        var copy = StoredObject.Clone(slice);
        copy.Metadata ??= new V1ObjectMeta();
        var ns = copy.Metadata.NamespaceProperty;
        var name = copy.Metadata.Name;
        ArgumentException.ThrowIfNullOrEmpty(ns, "slice.Metadata.NamespaceProperty");
        ArgumentException.ThrowIfNullOrEmpty(name, "slice.Metadata.Name");

        var previous = Get(ns, name);
        var rv = ++ResourceVersion;
        copy.ApiVersion = "discovery.k8s.io/v1";
        copy.Kind = "EndpointSlice";
        copy.Metadata.ResourceVersion = rv.ToString(CultureInfo.InvariantCulture);
        copy.Metadata.Uid = previous?.Slice.Metadata.Uid ?? Guid.NewGuid().ToString();
        copy.Metadata.Generation = (previous?.Slice.Metadata.Generation ?? 0) + 1;

        // The real API stores second precision timestamps.
        var now = _time.GetUtcNow().UtcDateTime;
        copy.Metadata.CreationTimestamp = previous?.Slice.Metadata.CreationTimestamp
            ?? new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

        var stored = new StoredObject(copy, rv);
        _objects[(ns, name)] = stored;
        Commit(new HistoryEntry(previous is null ? WatchEventType.Added : WatchEventType.Modified, stored, previous, rv));
        return stored;
    }

    public bool Delete(string @namespace, string name)
    {
        if (!_objects.Remove((@namespace, name), out var previous))
        {
            return false;
        }

        var rv = ++ResourceVersion;
        Commit(new HistoryEntry(WatchEventType.Deleted, previous.WithResourceVersion(rv), previous, rv));
        return true;
    }

    /// <summary>Forgets all history: only watches from the current resourceVersion (or newer) can resume.</summary>
    public void Compact() => CompactTo(ResourceVersion);

    /// <summary>
    /// As a restarted API server's watch cache: it starts from storage at a revision that writes to other resources
    /// have moved past every resourceVersion a client holds, with no history before it. The resourceVersion moves on
    /// by one (an invisible write) and everything up to it is compacted, so a watch from any resourceVersion handed out
    /// before gets 410 Gone, and a LIST (then a watch from its resourceVersion) works as usual.
    /// </summary>
    public void Restart()
    {
        ResourceVersion++;
        Compact();
    }

    /// <summary>
    /// The objects as they were at <paramref name="atRevision"/>, rebuilt by undoing newer history (consistent LIST pages).
    /// Returns <see langword="null"/> when that point is compacted away.
    /// </summary>
    public List<StoredObject>? SnapshotAt(long atRevision)
    {
        if (atRevision == ResourceVersion)
        {
            return [.. _objects.Values];
        }

        if (atRevision < _compactedRevision || atRevision > ResourceVersion)
        {
            return null;
        }

        var state = new SortedDictionary<(string, string), StoredObject>(_objects, KeyOrder);
        for (var node = _history.Last; node is not null && node.Value.ResourceVersion > atRevision; node = node.Previous)
        {
            var e = node.Value;
            var key = (e.Object.Namespace, e.Object.Name);
            if (e.Type == WatchEventType.Added)
            {
                state.Remove(key);
            }
            else
            {
                state[key] = e.Previous!;
            }
        }

        return [.. state.Values];
    }

    /// <summary>
    /// Registers a watcher and queues what it must see first: the current state (no RV, "0" or sendInitialEvents) or the
    /// replay of history newer than <paramref name="fromRevision"/>. Returns the 410 Status JSON when that RV is compacted.
    /// </summary>
    public string? AddWatcher(Watcher watcher, long? fromRevision, bool initialEventsEndBookmark)
    {
        if (fromRevision is null)
        {
            foreach (var o in _objects.Values)
            {
                if (watcher.Matches(o.Slice))
                {
                    watcher.Enqueue(WatchLine.Event(WatchEventType.Added, o));
                }
            }

            if (initialEventsEndBookmark)
            {
                watcher.Enqueue(WatchLine.Bookmark(ResourceVersion, initialEventsEnd: true));
            }
        }
        else
        {
            if (fromRevision < _compactedRevision)
            {
                return ApiStatus.TooOldResourceVersion(fromRevision.Value, _compactedRevision + 1);
            }

            foreach (var e in _history)
            {
                if (e.ResourceVersion > fromRevision)
                {
                    watcher.Offer(e);
                }
            }
        }

        _watchers.Add(watcher);
        return null;
    }

    /// <summary>The current state as the ADDED events a watch without a resourceVersion starts with.</summary>
    public List<WatchLine> CurrentStateFor(Watcher watcher) =>
        [.. _objects.Values.Where(o => watcher.Matches(o.Slice)).Select(o => WatchLine.Event(WatchEventType.Added, o))];

    public void RemoveWatcher(Watcher watcher)
    {
        _watchers.Remove(watcher);
        watcher.Complete();
    }

    private void Commit(HistoryEntry entry)
    {
        _history.AddLast(entry);
        while (_history.Count > _historyLimit)
        {
            CompactTo(_history.First!.Value.ResourceVersion);
        }

        foreach (var w in _watchers)
        {
            w.Offer(entry);
        }
    }

    private void CompactTo(long revision)
    {
        while (_history.First is { } first && first.Value.ResourceVersion <= revision)
        {
            _history.RemoveFirst();
        }

        _compactedRevision = Math.Max(_compactedRevision, revision);
    }
}
