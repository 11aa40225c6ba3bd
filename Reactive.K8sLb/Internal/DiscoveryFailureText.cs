using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The texts people read when discovery fails (status messages, logs, and the <c>Unavailable</c> detail of calls):
/// what failed, the API's own words, and what to do about it.
/// </summary>
internal static class DiscoveryFailureText
{
    /// <summary>Describes a failure of a LIST or WATCH, with an RBAC or namespace hint for 401/403/404.</summary>
    public static string Describe(Exception error, string service, string? @namespace)
    {
        if (error is not HttpOperationException { Response: { } response })
        {
            return $"{error.GetType().Name}: {error.Message}";
        }

        var code = response.StatusCode;
        var text = $"{(int)code} {code}: {ServerMessage(response.Content) ?? error.Message}";
        var where = $"EndpointSlices of Service '{service}' in namespace '{@namespace ?? "(detected)"}'";
        return code switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                $"{text} (cannot list/watch {where}: grant the pod's ServiceAccount the verbs 'list' and 'watch' on resource 'endpointslices' in API group 'discovery.k8s.io', e.g. with a Role and RoleBinding)",
            HttpStatusCode.NotFound =>
                $"{text} (no {where}: check the namespace, and that the cluster serves discovery.k8s.io/v1, Kubernetes 1.21+)",
            _ => text,
        };
    }

    /// <summary>The idle watchdog gave a silent watch up.</summary>
    public static string StalledWatch(string @namespace, string service, TimeSpan idleTimeout) =>
        $"The watch of EndpointSlices of Service {@namespace}/{service} delivered nothing, not even a bookmark, for {idleTimeout}; re-watching.";

    /// <summary>A LIST page got no answer within the library's own limit.</summary>
    public static string ListTimedOut(TimeSpan idleTimeout) =>
        $"The LIST of EndpointSlices got no answer within {idleTimeout} (DiscoveryConfig.IdleTimeout).";

    /// <summary>A LIST page got no answer within the Kubernetes client's own HTTP timeout, which fired first.</summary>
    public static string ListTimedOutInClient(IKubernetes client) =>
        $"The LIST of EndpointSlices got no answer within {(client is AbstractKubernetes kubernetes ? kubernetes.HttpClientTimeout.ToString() : "its own timeout")} (the Kubernetes client's HttpClientTimeout, see KubernetesClientConfiguration.HttpClientTimeout).";

    /// <summary>A streaming list was refused by the server (its WatchList feature is off).</summary>
    public static string StreamingListRejected(HttpOperationException error) =>
        $"it answered {(int)error.Response.StatusCode} {error.Response.StatusCode}: {ServerMessage(error.Response.Content) ?? error.Message}";

    /// <summary>A streaming list went silent before its initial-events-end bookmark.</summary>
    public static string NoInitialEventsEnd(TimeSpan timeout) =>
        $"no bookmark annotated k8s.io/initial-events-end and no event for {timeout}";

    /// <summary>A streaming list's response ended before its initial-events-end bookmark.</summary>
    public const string NoInitialEventsEndBeforeEnd = "the response ended without a bookmark annotated k8s.io/initial-events-end";

    /// <summary>A plain bookmark came before the initial-events-end bookmark: the server ignored sendInitialEvents.</summary>
    public const string PlainBookmarkFirst = "a bookmark without the k8s.io/initial-events-end annotation came first";

    private static string? ServerMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            return KubernetesJson.Deserialize<V1Status>(body)?.Message ?? body;
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
