using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
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

    /// <summary>
    /// Writes the Status by hand: KubernetesClient's V1Status converter only reads (its Write throws NotImplementedException).
    /// Relaxed escaping keeps quotes as <c>\"</c>, like the Go API server.
    /// </summary>
    public static string Json(V1Status status)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("kind", "Status");
            w.WriteString("apiVersion", "v1");
            w.WriteStartObject("metadata");
            w.WriteEndObject();
            w.WriteString("status", status.Status);
            w.WriteString("message", status.Message);
            w.WriteString("reason", status.Reason);
            if (status.Details?.RetryAfterSeconds is { } retryAfter)
            {
                w.WriteStartObject("details");
                w.WriteNumber("retryAfterSeconds", retryAfter);
                w.WriteEndObject();
            }

            w.WriteNumber("code", status.Code ?? 500);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

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
