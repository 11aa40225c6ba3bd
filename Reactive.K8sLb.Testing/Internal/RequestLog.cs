namespace Reactive.K8sLb.Testing.Internal;

/// <summary>
/// The most recent requests, at most <c>limit</c> of them, oldest dropped first (a ring: <see cref="Queue{T}"/> grows
/// lazily up to the limit, then each new request pushes the oldest out). Thread-safe; its own lock, never held while
/// calling out.
/// </summary>
internal sealed class RequestLog
{
    private readonly object _gate = new();
    private readonly Queue<Entry> _entries = new();
    private readonly int _limit;

    public RequestLog(int limit) => _limit = limit;

    /// <summary>Appends a request, dropping the oldest one when the log is full.</summary>
    /// <returns>The entry, for <see cref="Replace"/> when the request is answered later (a stalled LIST).</returns>
    public Entry Add(RecordedRequest request)
    {
        var entry = new Entry(request);
        lock (_gate)
        {
            if (_entries.Count == _limit)
            {
                _entries.Dequeue();
            }

            _entries.Enqueue(entry);
        }

        return entry;
    }

    /// <summary>Updates an entry in place (keeping its position); a no-op once it was dropped or cleared.</summary>
    public void Replace(Entry entry, RecordedRequest request)
    {
        lock (_gate)
        {
            entry.Request = request;
        }
    }

    /// <summary>A copy of the retained requests, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return [.. _entries.Select(e => e.Request)];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    /// <summary>One slot of the log; mutated only under the log's lock.</summary>
    internal sealed class Entry(RecordedRequest request)
    {
        public RecordedRequest Request { get; set; } = request;
    }
}
