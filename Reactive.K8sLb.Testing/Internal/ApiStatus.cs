using k8s;
using k8s.Models;

namespace Reactive.K8sLb.Testing.Internal;

/// <summary>Builds <c>Status</c> bodies shaped like the real API server's.</summary>
internal static class ApiStatus
{
    public static V1Status Failure(int code, string message, string? reason = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Status",
        Metadata = new V1ListMeta(),
        Status = "Failure",
        Message = message,
        Reason = reason ?? ReasonFor(code),
        Code = code,
    };

    public static string Json(V1Status status) => KubernetesJson.Serialize(status);

    public static string TooOldResourceVersion(long requested, long oldest) =>
        Json(Failure(410, $"too old resource version: {requested} ({oldest})", "Expired"));

    public static string ReasonFor(int code) => code switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    };
}
