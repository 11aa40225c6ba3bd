using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// A deliberately misbehaving Kubernetes API for protocol edge cases the emulator does not produce: a plain TCP
/// listener on 127.0.0.1 that answers each HTTP/1.1 request with what the test's script says (or nothing at all),
/// then closes the connection (or keeps it open, to model a watch that stays silent). Counts LIST and WATCH requests.
/// </summary>
internal sealed class ScriptedApiServer : IAsyncDisposable
{
    private const string EmptyList = """{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSliceList","metadata":{"resourceVersion":"7"},"items":[]}""";
    private readonly LoopbackTcpServer _server;
    private readonly Func<ScriptedRequest, ScriptedReply> _respond;
    private int _lists;
    private int _watches;

    /// <param name="respond">Given "is this a watch", the raw response to send, or null to send nothing (hang).</param>
    private ScriptedApiServer(Func<bool, string?> respond)
        : this(request => new ScriptedReply(respond(request.Watch)))
    {
    }

    private ScriptedApiServer(Func<ScriptedRequest, ScriptedReply> respond)
    {
        _respond = respond;
        _server = new LoopbackTcpServer(ServeAsync);
    }

    public int Lists => Volatile.Read(ref _lists);

    public int Watches => Volatile.Read(ref _watches);

    public k8s.KubernetesClientConfiguration ClientConfiguration => _server.ClientConfiguration;

    /// <summary>Every request is accepted and never answered.</summary>
    public static ScriptedApiServer Hanging() => new(_ => null);

    /// <summary>LIST returns an empty list; every WATCH gets a 200 with an empty body at once.</summary>
    public static ScriptedApiServer ClosingWatches() => new(watch => watch ? Response(200, string.Empty) : Response(200, EmptyList));

    /// <summary>LIST returns an empty list; every WATCH is answered with HTTP 410 Gone.</summary>
    public static ScriptedApiServer GoneWatches() => new(watch => watch
        ? Response(410, """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 7 (9)","reason":"Expired","code":410}""")
        : Response(200, EmptyList));

    /// <summary>Answers each request as <paramref name="respond"/> says; build replies with the helpers below.</summary>
    public static ScriptedApiServer Scripted(Func<ScriptedRequest, ScriptedReply> respond) => new(respond);

    /// <summary>LIST returns an empty list at resourceVersion 7.</summary>
    public static ScriptedReply ListReply() => new(Response(200, EmptyList));

    /// <summary>An error answer with a Kubernetes Status body and optional extra headers (e.g. Retry-After).</summary>
    public static ScriptedReply StatusReply(int status, string message, params (string Name, string Value)[] headers) =>
        new(Response(status, $$"""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"{{message}}","code":{{status}}}""", headers));

    /// <summary>
    /// A watch answered 200 with a chunked body holding <paramref name="lines"/> (none: headers only), and then
    /// nothing: with <paramref name="keepOpen"/> the connection stays open and silent, else it is closed without the
    /// final chunk (the client sees the response end prematurely, as when a proxy drops the watch).
    /// </summary>
    public static ScriptedReply WatchReply(bool keepOpen, params string[] lines)
    {
        var text = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        foreach (var line in lines)
        {
            var chunk = line + "\n";
            text.Append(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetByteCount(chunk):x}\r\n{chunk}\r\n");
        }

        return new ScriptedReply(text.ToString(), keepOpen);
    }

    /// <summary>A BOOKMARK watch line at the given resourceVersion.</summary>
    public static string Bookmark(string resourceVersion) =>
        """{"type":"BOOKMARK","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"resourceVersion":""" + $"\"{resourceVersion}\"" + "}}}";

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static string Response(int status, string body, params (string Name, string Value)[] headers) =>
        $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n"
        + string.Concat(headers.Select(header => $"{header.Name}: {header.Value}\r\n"))
        + $"Connection: close\r\n\r\n{body}";

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        410 => "Gone",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Error",
    };

    private async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        try
        {
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            var requestLine = await LoopbackTcpServer.ReadRequestLineAsync(reader, stopping) ?? string.Empty;

            var watch = requestLine.Contains("watch=true", StringComparison.Ordinal);
            var number = Interlocked.Increment(ref watch ? ref _watches : ref _lists);
            var reply = _respond(new ScriptedRequest(watch, number));
            if (reply.Text is { } response)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response), stopping);
                await stream.FlushAsync(stopping);
                if (!reply.KeepOpen) client.Dispose();
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
    }
}

/// <summary>One request to a <see cref="ScriptedApiServer"/>: a WATCH or a LIST, and its number among its kind (from 1).</summary>
internal readonly record struct ScriptedRequest(bool Watch, int Number);

/// <summary>What a <see cref="ScriptedApiServer"/> sends: raw HTTP (null: nothing, the request hangs), and whether the
/// connection then stays open instead of being closed.</summary>
internal readonly record struct ScriptedReply(string? Text, bool KeepOpen = false);
