using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Reports the status code of a WATCH response as soon as its headers arrive. KubernetesClient's typed watch only
/// hands its response over once the first line has been read, which on a quiet Service can be a minute (the first
/// bookmark); this handler, installed in the clients the library creates, lets the watcher know at once that the
/// watch is established. The listener is per asynchronous flow (<see cref="AsyncLocal{T}"/>), so several watchers can
/// share one client and each hears only about its own requests.
/// </summary>
internal sealed class WatchResponseHeadersHandler : DelegatingHandler
{
    private static readonly AsyncLocal<Action<HttpStatusCode>?> CurrentListener = new();

    /// <summary>
    /// Makes <paramref name="listener"/> hear the status of the watch requests the calling flow starts, until the
    /// returned scope is disposed. Without this handler in the client's pipeline it hears nothing.
    /// </summary>
    /// <param name="listener">Called on the thread that received the headers, before the response is read.</param>
    /// <returns>Restores the previous listener.</returns>
    public static Scope Listen(Action<HttpStatusCode> listener)
    {
        var previous = CurrentListener.Value;
        CurrentListener.Value = listener;
        return new Scope(previous);
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var listener = CurrentListener.Value;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (listener is not null && IsWatch(request.RequestUri))
        {
            listener(response.StatusCode);
        }

        return response;
    }

    private static bool IsWatch(Uri? uri) =>
        uri is not null && uri.Query.TrimStart('?').Split('&').Contains("watch=true", StringComparer.Ordinal);

    /// <summary>Restores the listener that was current before <see cref="Listen"/>.</summary>
    internal readonly struct Scope(Action<HttpStatusCode>? previous) : IDisposable
    {
        public void Dispose() => CurrentListener.Value = previous;
    }
}
