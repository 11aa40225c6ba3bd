#if !NET9_0_OR_GREATER
namespace System.Runtime.CompilerServices;

/// <summary>The .NET 9 attribute, for the net8.0 build (C# 13 compilers honour it by name): it keeps a status-only
/// <c>new DiscoveryUpdate([], status)</c> unambiguous between the two constructors.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
internal sealed class OverloadResolutionPriorityAttribute(int priority) : Attribute
{
    public int Priority { get; } = priority;
}
#endif
