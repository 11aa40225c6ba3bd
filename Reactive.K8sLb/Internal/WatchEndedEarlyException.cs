namespace Reactive.K8sLb.Internal;

/// <summary>A watch closed almost at once without delivering anything: retried with backoff, not in a tight loop.</summary>
internal sealed class WatchEndedEarlyException(string message) : Exception(message);
