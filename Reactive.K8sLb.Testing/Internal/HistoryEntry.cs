using k8s;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>One committed change: the new object (for DELETED, the last state stamped with the deletion RV) and the previous one.</summary>
internal sealed record HistoryEntry(WatchEventType Type, StoredObject Object, StoredObject? Previous, long ResourceVersion);
