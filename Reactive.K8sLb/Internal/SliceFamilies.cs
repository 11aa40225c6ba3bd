namespace Reactive.K8sLb.Internal;

/// <summary>A set of <see cref="SliceFamily"/> values: the address families whose slices contribute endpoints.</summary>
[Flags]
internal enum SliceFamilies
{
    None = 0,
    IPv4 = 1 << SliceFamily.IPv4,
    IPv6 = 1 << SliceFamily.IPv6,
    Fqdn = 1 << SliceFamily.Fqdn,
}

/// <summary>What the tracker uses: the active families, and whether the serving-and-terminating fallback is in force.</summary>
internal readonly record struct SetMode(SliceFamilies Families, bool Fallback)
{
    public bool Includes(SliceFamily family) => (Families & (SliceFamilies)(1 << (int)family)) != 0;
}
