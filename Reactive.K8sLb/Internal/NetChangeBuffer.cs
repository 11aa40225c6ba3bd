namespace Reactive.K8sLb.Internal;

/// <summary>
/// Accumulates changes as their net effect per item identity (<c>comparer</c>), keeping the surviving changes in the
/// order their items first changed:
/// <list type="bullet">
/// <item>Insert then Remove: nothing. Insert then Update: Insert of the new value.</item>
/// <item>Update then Update: the last Update. Update then Remove: Remove.</item>
/// <item>Remove then Insert: nothing when the inserted value equals the removed one (default equality of
/// <typeparamref name="T"/>, which may see more than the identity, e.g. a <see cref="KubernetesEndpoint"/>'s
/// metadata), else an Update to the inserted value.</item>
/// </list>
/// A batch that starts with an Update cannot know the value the consumer holds (an Update carries only the new one):
/// after Update then Remove, an Insert is always an Update, and a flap A→B→A within one batch nets to an Update to A.
/// Redundant, never wrong.
/// Any other sequence (an Insert of a pending insert, a Remove of a pending remove, an Update of a pending remove) is a
/// protocol error upstream: the first change is kept and the echo dropped.
/// </summary>
internal sealed class NetChangeBuffer<T>(IEqualityComparer<T>? comparer = null)
    where T : notnull
{
    private readonly LinkedList<Change<T>> _order = new();
    private readonly Dictionary<T, LinkedListNode<Change<T>>> _pending = new(comparer ?? EqualityComparer<T>.Default);

    // Pending removes whose item is not the value the consumer holds (they followed an Update in this batch).
    private readonly HashSet<T> _removedAfterUpdate = new(comparer ?? EqualityComparer<T>.Default);

    public bool IsEmpty => _order.Count == 0;

    public void Add(Change<T> change)
    {
        if (!_pending.TryGetValue(change.Item, out var node))
        {
            _pending[change.Item] = _order.AddLast(change);
            return;
        }

        var pending = node.Value;
        var net = pending.Kind == ChangeKind.Remove && change.Kind == ChangeKind.Insert && _removedAfterUpdate.Remove(change.Item)
            ? Change.Update(change.Item)
            : Net(pending, change);
        if (pending.Kind == ChangeKind.Update && change.Kind == ChangeKind.Remove) _removedAfterUpdate.Add(change.Item);
        if (net is { } kept)
        {
            node.Value = kept;
            return;
        }

        _order.Remove(node);
        _pending.Remove(change.Item);
    }

    public List<Change<T>> Drain()
    {
        var result = new List<Change<T>>(_order);
        _order.Clear();
        _pending.Clear();
        _removedAfterUpdate.Clear();
        return result;
    }

    /// <summary>The net change of <paramref name="pending"/> followed by <paramref name="next"/>; null when they cancel.</summary>
    private static Change<T>? Net(Change<T> pending, Change<T> next) => (pending.Kind, next.Kind) switch
    {
        (ChangeKind.Insert, ChangeKind.Remove) => null,
        (ChangeKind.Insert, ChangeKind.Update) => Change.Insert(next.Item),
        (ChangeKind.Update, ChangeKind.Update) => next,
        (ChangeKind.Update, ChangeKind.Remove) => next,
        (ChangeKind.Remove, ChangeKind.Insert) => EqualityComparer<T>.Default.Equals(pending.Item, next.Item) ? null : Change.Update(next.Item),
        _ => pending,
    };
}
