namespace Reactive.K8sLb.Internal;

/// <summary>How sure a streaming list's fallback to LIST + WATCH is that the server does not support streaming lists.</summary>
internal enum StreamingFallback
{
    /// <summary>The server said so (a 400/422 naming the parameters) or showed it (a plain bookmark first): remembered.</summary>
    Definite,

    /// <summary>Silence or an end before the initial-events-end bookmark: remembered when it happens twice in a row.</summary>
    Ambiguous,

    /// <summary>Another refusal (e.g. RBAC): one LIST for this attempt, as client-go falls back; nothing remembered.</summary>
    ThisAttempt,
}
