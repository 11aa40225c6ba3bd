using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Reactive.K8sLb.Tests.Discovery;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// A raw HTTP/1.1 Kubernetes API for one Service that, unlike <c>ScriptedApiServer</c>, keeps connections alive: every
/// response (LIST with Content-Length, WATCH chunked) leaves its connection open for the client's next request, so a
/// connection that a cancelled watch hands back to the client's pool is reused by the next LIST. Each WATCH is answered
/// with one ADDED slice and then stays open until <see cref="ExpireOpenWatches"/> writes a 410 ERROR event into it,
/// followed by what the test asks for (more lines, the final chunk, or nothing). Logs every request with the number of
/// the connection it came on.
/// </summary>
internal sealed class KeepAliveApiServer : IAsyncDisposable
{
    private const string Gone = """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 7 (9)","reason":"Expired","code":410}}""";
    private readonly LoopbackTcpServer _server;
    private readonly ConcurrentQueue<(int Connection, bool Watch, string RequestLine)> _requests = new();
    private readonly ConcurrentDictionary<int, (NetworkStream Stream, SemaphoreSlim Gate)> _watches = new();
    private int _connections;
    private int _expireNextWatch;
    private long _resourceVersion = 7;

    public KeepAliveApiServer()
    {
        _server = new LoopbackTcpServer(ServeAsync);
    }

    public k8s.KubernetesClientConfiguration ClientConfiguration => _server.ClientConfiguration;

    public int Lists => _requests.Count(r => !r.Watch);

    public int OpenWatches => _watches.Count;

    public IReadOnlyList<(int Connection, bool Watch, string RequestLine)> Requests => [.. _requests];

    /// <summary>Writes a 410 ERROR event into every open watch, then what <paramref name="after"/> says.</summary>
    public async Task ExpireOpenWatches(AfterGone after)
    {
        foreach (var (id, (stream, gate)) in _watches.ToArray())
        {
            _watches.TryRemove(id, out _);
            await gate.WaitAsync();
            try
            {
                if (after == AfterGone.OnRewatch) Interlocked.Exchange(ref _expireNextWatch, 1);
                var text = new StringBuilder(after == AfterGone.OnRewatch ? string.Empty : Chunk(Gone));
                if (after == AfterGone.LineThenEnd) text.Append(Chunk(Bookmark()));
                if (after is AfterGone.End or AfterGone.LineThenEnd or AfterGone.OnRewatch) text.Append("0\r\n\r\n");
                await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
                await stream.FlushAsync();
                if (after is AfterGone.EndLater or AfterGone.EndMuchLater)
                {
                    await Task.Delay(after == AfterGone.EndLater ? 50 : 1000);
                    await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
                    await stream.FlushAsync();
                }
            }
            catch (IOException)
            {
                // The client went away.
            }
            finally
            {
                gate.Release();
            }
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static string Chunk(string line)
    {
        var text = line + "\n";
        return string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(text):x}\r\n{text}\r\n");
    }

    private string Bookmark() =>
        """{"type":"BOOKMARK","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"resourceVersion":""" + $"\"{Interlocked.Increment(ref _resourceVersion)}\"" + "}}}";

    private string Added() =>
        """{"type":"ADDED","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"greeter-abc","namespace":"demo","labels":{"kubernetes.io/service-name":"greeter"},"resourceVersion":"""
        + $"\"{Interlocked.Increment(ref _resourceVersion)}\""
        + """},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}}],"ports":[{"name":"grpc","port":8080,"protocol":"TCP"}]}}""";

    private string List() =>
        """{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSliceList","metadata":{"resourceVersion":""" + $"\"{Interlocked.Read(ref _resourceVersion)}\"" + "},\"items\":[]}";

    private async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        var connection = Interlocked.Increment(ref _connections);
        var stream = client.GetStream();
        var gate = new SemaphoreSlim(1);
        try
        {
            // One request at a time per connection (HTTP/1.1 without pipelining), so a buffered reader is safe.
            var reader = new StreamReader(stream, Encoding.ASCII);
            while (true)
            {
                var requestLine = await LoopbackTcpServer.ReadRequestLineAsync(reader, stopping);
                if (requestLine is null) return;

                var watch = requestLine.Contains("watch=true", StringComparison.Ordinal);
                _requests.Enqueue((connection, watch, requestLine));
                await gate.WaitAsync(stopping);
                try
                {
                    if (watch && Interlocked.Exchange(ref _expireNextWatch, 0) == 1)
                    {
                        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunk(Gone) + "0\r\n\r\n";
                        await stream.WriteAsync(Encoding.UTF8.GetBytes(head), stopping);
                    }
                    else if (watch)
                    {
                        var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + Chunk(Added());
                        await stream.WriteAsync(Encoding.UTF8.GetBytes(head), stopping);
                        _watches[connection] = (stream, gate);
                    }
                    else
                    {
                        var body = List();
                        var response = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
                        await stream.WriteAsync(Encoding.UTF8.GetBytes(response), stopping);
                    }

                    await stream.FlushAsync(stopping);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (IOException)
        {
            // The client went away.
        }
        finally
        {
            _watches.TryRemove(connection, out _);
        }
    }
}

/// <summary>What follows the 410 ERROR line in an expired watch.</summary>
public enum AfterGone
{
    /// <summary>The final chunk: the response ends cleanly, the connection stays open (what kube-apiserver does).</summary>
    End,

    /// <summary>
    /// The final chunk 50 ms later, in a separate write (as Kestrel ends a response after the handler's last flush):
    /// the client has processed the ERROR line and is waiting for more when it arrives.
    /// </summary>
    EndLater,

    /// <summary>
    /// The final chunk 1 s later: longer than the watcher waits for an expired stream to end on its own, so it
    /// gives up on the response while its read is pending.
    /// </summary>
    EndMuchLater,

    /// <summary>A BOOKMARK line, then the final chunk.</summary>
    LineThenEnd,

    /// <summary>Nothing: the response stays open (until the client goes away).</summary>
    Nothing,

    /// <summary>
    /// No ERROR in the open watch: it just ends (as at timeoutSeconds); the re-watch from its resourceVersion is then
    /// answered with 200, the ERROR line at once and the final chunk (a resourceVersion older than the history).
    /// </summary>
    OnRewatch,
}
