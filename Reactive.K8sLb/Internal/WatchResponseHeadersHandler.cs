using System.Net;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Reports the status code of a WATCH response as soon as its headers arrive. KubernetesClient's typed watch only
/// hands its response over once the first line has been read, which on a quiet Service can be a minute (the first
/// bookmark); this handler, installed in the clients the library creates, lets the watcher know at once that the
/// watch is established. The listener is per asynchronous flow (<see cref="AsyncLocal{T}"/>), so several watchers can
/// share one client and each hears only about its own requests.
/// <para>
/// It also makes the watch's body abortable (<see cref="AbortableContent"/>): KubernetesClient reads the body with the
/// token of a <see cref="CancellationTokenSource"/> it disposes as soon as the response headers are in, so cancelling a
/// watch never reaches the socket read. Its enumerator then abandons the pending read and disposes the stream, which
/// makes SocketsHttpHandler drain the response concurrently with that read and, once the final chunk arrives, hand the
/// HTTP/1.1 connection back to the pool with the abandoned read still pending on it: the next request on that
/// connection loses its response to the stale read (it hangs until a timeout) or finds the buffer offsets corrupted
/// (<c>ArgumentOutOfRangeException</c> in <c>HttpConnection.ParseStatusLine</c>). With the listener's abort token linked
/// into every read of the body, cancelling that token first cancels the pending read itself, and SocketsHttpHandler
/// disposes the connection instead of reusing it.
/// </para>
/// </summary>
internal sealed class WatchResponseHeadersHandler : DelegatingHandler
{
    private static readonly AsyncLocal<Listener?> CurrentListener = new();

    /// <summary>
    /// Makes <paramref name="listener"/> hear the status of the watch requests the calling flow starts, until the
    /// returned scope is disposed. Without this handler in the client's pipeline it hears nothing.
    /// </summary>
    /// <param name="listener">Called on the thread that received the headers, before the response is read.</param>
    /// <param name="abortReads">When cancelled, cancels any pending read of the body of a successful watch response
    /// started in this flow (the connection is then closed, never reused); reads started afterwards fail at once.
    /// Cancel it before the token the watch itself was given, so that no read is abandoned while still pending.</param>
    /// <returns>Restores the previous listener.</returns>
    public static Scope Listen(Action<HttpStatusCode> listener, CancellationToken abortReads = default)
    {
        var previous = CurrentListener.Value;
        CurrentListener.Value = new Listener(listener, abortReads);
        return new Scope(previous);
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var listener = CurrentListener.Value;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (listener is not null && IsWatch(request.RequestUri))
        {
            if (response.IsSuccessStatusCode && listener.AbortReads.CanBeCanceled)
            {
                response.Content = new AbortableContent(response.Content, listener.AbortReads);
            }

            listener.OnHeaders(response.StatusCode);
        }

        return response;
    }

    private static bool IsWatch(Uri? uri) =>
        uri is not null && uri.Query.TrimStart('?').Split('&').Contains("watch=true", StringComparer.Ordinal);

    /// <summary>What <see cref="Listen"/> installed for one flow.</summary>
    internal sealed record Listener(Action<HttpStatusCode> OnHeaders, CancellationToken AbortReads);

    /// <summary>Restores the listener that was current before <see cref="Listen"/>.</summary>
    internal readonly struct Scope(Listener? previous) : IDisposable
    {
        public void Dispose() => CurrentListener.Value = previous;
    }

    /// <summary>
    /// A response body whose reads are all linked to an abort token: cancelling it cancels a pending read (on HTTP/1.1
    /// SocketsHttpHandler then disposes the connection) and fails later reads at once, without touching the connection.
    /// Headers are those of the original content; disposing disposes it.
    /// </summary>
    internal sealed class AbortableContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly CancellationToken _abort;

        public AbortableContent(HttpContent inner, CancellationToken abort)
        {
            _inner = inner;
            _abort = abort;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new AbortableStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _abort);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            await using var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>A read-only stream whose asynchronous reads observe the abort token as well as their own.</summary>
    private sealed class AbortableStream(Stream inner, CancellationToken abort) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return await inner.ReadAsync(buffer, abort).ConfigureAwait(false);
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abort);
            return await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            abort.ThrowIfCancellationRequested();
            return inner.Read(buffer, offset, count);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
