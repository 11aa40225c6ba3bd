namespace Reactive.K8sLb;

/// <summary>A retry about to happen, as reported to the retry hook.</summary>
/// <param name="Attempt">1 for the first retry after a healthy period, then 2, 3, ...</param>
/// <param name="Delay">How long the retry waits before resubscribing.</param>
/// <param name="Exception">The failure that caused it.</param>
public readonly record struct RetryAttempt(int Attempt, TimeSpan Delay, Exception Exception);
