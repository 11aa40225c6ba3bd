namespace Reactive.K8sLb.Internal;

/// <summary>How one WATCH request (or streaming list) ended, when it ended without an error.</summary>
internal enum WatchOutcome
{
    /// <summary>The server closed it (timeoutSeconds): watch again from the last resourceVersion.</summary>
    Ended,

    /// <summary>410 Gone: the resourceVersion is too old; relist.</summary>
    Expired,

    /// <summary>The idle watchdog abandoned it: watch again from the last resourceVersion.</summary>
    Idle,

    /// <summary>A streaming list the server rejected or did not honour: list with LIST + WATCH instead.</summary>
    StreamingUnsupported,
}
