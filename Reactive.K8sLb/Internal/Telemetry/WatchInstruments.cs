using System.Diagnostics.Metrics;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// The watch stage's instruments: API requests by verb and outcome, relists, watch restarts and backoff delays, each
/// tagged with the Service and namespace. Every method returns at once when nobody listens to its instrument.
/// </summary>
internal static class WatchInstruments
{
    public const string VerbTag = "k8slb.api.verb";
    public const string OutcomeTag = "k8slb.api.outcome";
    public const string StatusCodeTag = "http.response.status_code";
    public const string RelistReasonTag = "k8slb.watch.relist_reason";
    public const string RestartReasonTag = "k8slb.watch.restart_reason";
    public const string BackoffReasonTag = "k8slb.backoff.reason";

    public const string ListVerb = "list";
    public const string WatchVerb = "watch";

    /// <summary>Relist and restart reason: 410 Gone.</summary>
    public const string GoneReason = "gone";

    /// <summary>Relist, restart and backoff reason: a failure.</summary>
    public const string ErrorReason = "error";

    /// <summary>Restart reason: the server closed the watch normally (timeoutSeconds).</summary>
    public const string ServerTimeoutReason = "server_timeout";

    /// <summary>Restart reason: the idle watchdog abandoned the watch.</summary>
    public const string IdleReason = "idle";

    /// <summary>Backoff reason: the API refused us (401, 403, 404).</summary>
    public const string RefusedReason = "refused";

    /// <summary>Backoff reason: a 429 or 503 that asked us to wait (Retry-After).</summary>
    public const string ThrottledReason = "throttled";

    public static readonly Counter<long> Requests = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.api.requests",
        unit: "{request}",
        description: "HTTP requests to the Kubernetes API (each LIST page, each WATCH), by verb (list, watch) and outcome (ok, gone, client_error, server_error, network, timeout).");

    public static readonly Counter<long> Relists = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.watch.relists",
        unit: "{relist}",
        description: "LISTs after the first of a discovery, by reason: gone (a watch got 410 Gone) or error (the LIST before failed).");

    public static readonly Counter<long> Restarts = Instrumentation.Meter.CreateCounter<long>(
        "k8slb.watch.restarts",
        unit: "{restart}",
        description: "WATCH requests after the first of a discovery, by why the previous watch ended: server_timeout, gone, error, idle.");

    private const string BackoffDescription =
        "Delays waited before retrying a failed LIST or WATCH, by reason: error, refused (401/403/404), throttled (429/503 with Retry-After).";

#if NET9_0_OR_GREATER
    // From the smallest configurable delays to the 30 s default maximum and beyond (Retry-After may ask for minutes).
    public static readonly Histogram<double> BackoffDelay = Instrumentation.Meter.CreateHistogram<double>(
        "k8slb.backoff.delay",
        unit: "s",
        description: BackoffDescription,
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
#else
    public static readonly Histogram<double> BackoffDelay = Instrumentation.Meter.CreateHistogram<double>(
        "k8slb.backoff.delay",
        unit: "s",
        description: BackoffDescription);
#endif

    // Boxed once, so tagging a status code does not allocate per request.
    private static readonly object?[] BoxedStatusCodes = new object?[600];

    public static void RecordRequest(string service, string @namespace, string verb, ApiResult result)
    {
        if (!Requests.Enabled) return;
        var tags = Instrumentation.ServiceTags(service, @namespace);
        tags.Add(VerbTag, verb);
        tags.Add(OutcomeTag, result.Outcome);
        if (result.StatusCode != 0) tags.Add(StatusCodeTag, Box(result.StatusCode));
        Requests.Add(1, tags);
    }

    public static void RecordRelist(string service, string @namespace, string reason)
    {
        if (!Relists.Enabled) return;
        var tags = Instrumentation.ServiceTags(service, @namespace);
        tags.Add(RelistReasonTag, reason);
        Relists.Add(1, tags);
    }

    public static void RecordRestart(string service, string @namespace, string reason)
    {
        if (!Restarts.Enabled) return;
        var tags = Instrumentation.ServiceTags(service, @namespace);
        tags.Add(RestartReasonTag, reason);
        Restarts.Add(1, tags);
    }

    public static void RecordBackoff(string service, string? @namespace, string reason, TimeSpan delay)
    {
        if (!BackoffDelay.Enabled) return;
        var tags = Instrumentation.ServiceTags(service, @namespace);
        tags.Add(BackoffReasonTag, reason);
        BackoffDelay.Record(delay.TotalSeconds, tags);
    }

    /// <summary>The status code as a cached boxed value (boxed on first use; the race only boxes twice).</summary>
    internal static object Box(int statusCode)
    {
        if ((uint)statusCode >= (uint)BoxedStatusCodes.Length) return statusCode;
        return BoxedStatusCodes[statusCode] ??= statusCode;
    }
}
