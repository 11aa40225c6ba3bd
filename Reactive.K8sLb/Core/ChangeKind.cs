namespace Reactive.K8sLb;

/// <summary>The kind of a <see cref="Change{T}"/>.</summary>
public enum ChangeKind
{
    /// <summary>The item joined the set.</summary>
    Insert = 0,

    /// <summary>The item left the set.</summary>
    Remove = 1,
}
