using System.Net;
using k8s.Autorest;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// How one HTTP request to the Kubernetes API ended, as the <c>k8slb.api.outcome</c> tag says it (and the HTTP status
/// code when a response status exists), for the request counter and the LIST/WATCH activities.
/// </summary>
/// <param name="Outcome">One of the <c>*Outcome</c> constants.</param>
/// <param name="StatusCode">The HTTP status of the response, or 0 when there was none (transport error, timeout, or an
/// error reported inside a 200 watch stream).</param>
internal readonly record struct ApiResult(string Outcome, int StatusCode)
{
    public const string OkOutcome = "ok";
    public const string GoneOutcome = "gone";
    public const string ClientErrorOutcome = "client_error";
    public const string ServerErrorOutcome = "server_error";
    public const string NetworkOutcome = "network";
    public const string TimeoutOutcome = "timeout";

    /// <summary>A 200 LIST page, or a watch that ran and ended normally (or was ended by us after a 410 event).</summary>
    public static ApiResult Ok { get; } = new(OkOutcome, 200);

    /// <summary>A watch whose 200 stream carried a 410 ERROR event (the HTTP status was 200, so no code is tagged).</summary>
    public static ApiResult GoneEvent { get; } = new(GoneOutcome, 0);

    /// <summary>Our idle watchdog, or the client's own timeout, gave the request up.</summary>
    public static ApiResult Timeout { get; } = new(TimeoutOutcome, 0);

    public bool IsSuccess => string.Equals(Outcome, OkOutcome, StringComparison.Ordinal);

    /// <summary>Classifies a failed request.</summary>
    /// <param name="error">What the request threw (or the Status of an ERROR event of a watch).</param>
    public static ApiResult Of(Exception error) => error switch
    {
        HttpOperationException { Response: { } response } => ForStatus((int)response.StatusCode, (int)response.StatusCode),
        k8s.KubernetesException { Status.Code: { } code } => ForStatus(code, 0),
        k8s.KubernetesException => new(ServerErrorOutcome, 0),
        TimeoutException or OperationCanceledException => Timeout,
        HttpRequestException { StatusCode: { } status } => ForStatus((int)status, (int)status),

        // Connection refused or reset, a response cut short, a malformed response: no status to speak of.
        _ => new(NetworkOutcome, 0),
    };

    private static ApiResult ForStatus(int code, int tagged) => code switch
    {
        (int)HttpStatusCode.Gone => new(GoneOutcome, tagged),
        >= 500 => new(ServerErrorOutcome, tagged),
        _ => new(ClientErrorOutcome, tagged),
    };
}
