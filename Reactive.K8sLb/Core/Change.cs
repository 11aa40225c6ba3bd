namespace Reactive.K8sLb;

/// <summary>
/// An immutable change to a set: an item was inserted, removed, or updated in place (see <see cref="ChangeKind"/>). Two changes are equal when their
/// <see cref="Kind"/> and <see cref="Item"/> are equal.
/// </summary>
/// <typeparam name="T">The type of the items in the set.</typeparam>
/// <param name="Kind">Whether the item was inserted, removed or updated.</param>
/// <param name="Item">The item that changed.</param>
public readonly record struct Change<T>(ChangeKind Kind, T Item)
{
    /// <summary>Returns a readable form such as <c>Insert 10.0.0.1:8080</c>.</summary>
    /// <returns>The kind followed by the item.</returns>
    public override string ToString() => $"{Kind} {Item}";
}

/// <summary>Factories for <see cref="Change{T}"/> that infer the item type.</summary>
public static class Change
{
    /// <summary>Creates an <see cref="ChangeKind.Insert"/> change.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="item">The inserted item.</param>
    /// <returns>The change.</returns>
    public static Change<T> Insert<T>(T item) => new(ChangeKind.Insert, item);

    /// <summary>Creates a <see cref="ChangeKind.Remove"/> change.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="item">The removed item.</param>
    /// <returns>The change.</returns>
    public static Change<T> Remove<T>(T item) => new(ChangeKind.Remove, item);

    /// <summary>Creates an <see cref="ChangeKind.Update"/> change: <paramref name="item"/> replaces the item of the same identity.</summary>
    /// <typeparam name="T">The item type.</typeparam>
    /// <param name="item">The item's new value.</param>
    /// <returns>The change.</returns>
    public static Change<T> Update<T>(T item) => new(ChangeKind.Update, item);
}
