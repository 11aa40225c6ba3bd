namespace Reactive.K8sLb.Testing;

/// <summary>The kind of a request received by the emulator.</summary>
public enum RequestKind
{
    /// <summary>Any request that is neither a LIST nor a WATCH of a collection.</summary>
    Other = 0,

    /// <summary>A LIST of a collection.</summary>
    List = 1,

    /// <summary>A WATCH of a collection (<c>watch=true</c>).</summary>
    Watch = 2,
}

/// <summary>One request received by the emulator.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The request path.</param>
/// <param name="Query">The parsed query string (last value wins for repeated keys).</param>
/// <param name="Kind">Whether the request was a LIST, a WATCH or something else.</param>
/// <param name="StatusCode">
/// The status code answered (for a watch, the status of the response head); 0 for a LIST held by
/// <see cref="KubernetesApiEmulator.StallLists"/> that has not been answered (yet, or at all if its client gave up).
/// </param>
/// <param name="Timestamp">The <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> value when the request arrived.</param>
public sealed record RecordedRequest(
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Query,
    RequestKind Kind,
    int StatusCode,
    long Timestamp)
{
    /// <summary>
    /// The request's <c>User-Agent</c> header, or <see langword="null"/> without one. Give each client of a fleet test
    /// its own (a <see cref="System.Net.Http.DelegatingHandler"/> in its Kubernetes client) to tell their requests
    /// apart, e.g. for <see cref="RequestLogStatistics"/>.
    /// </summary>
    public string? UserAgent { get; init; }

    /// <summary>
    /// Whether this is a streaming list: a WATCH with <c>sendInitialEvents=true</c>, which replaces a LIST (see
    /// <see cref="StreamingListSupport"/>).
    /// </summary>
    public bool IsStreamingList =>
        Kind == RequestKind.Watch && Query.TryGetValue("sendInitialEvents", out var value) && value is "true" or "1";
}
