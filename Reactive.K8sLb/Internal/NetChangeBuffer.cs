namespace Reactive.K8sLb.Internal;

/// <summary>
/// Accumulates changes as their net effect: an Insert and a later Remove of the same item cancel (and vice versa);
/// surviving changes keep their order.
/// </summary>
internal sealed class NetChangeBuffer<T>(IEqualityComparer<T>? comparer = null)
    where T : notnull
{
    private readonly LinkedList<Change<T>> _order = new();
    private readonly Dictionary<T, LinkedListNode<Change<T>>> _pending = new(comparer ?? EqualityComparer<T>.Default);
    public bool IsEmpty => _order.Count == 0;

    public void Add(Change<T> change)
    {
        if (_pending.TryGetValue(change.Item, out var node))
        {
            if (node.Value.Kind != change.Kind)
            {
                _order.Remove(node);
                _pending.Remove(change.Item);
                return;
            }

            // A repeated Insert (or Remove) is a protocol error upstream: keep the first, drop the echo.
            return;
        }

        _pending[change.Item] = _order.AddLast(change);
    }

    public List<Change<T>> Drain()
    {
        var result = new List<Change<T>>(_order);
        _order.Clear();
        _pending.Clear();
        return result;
    }
}
