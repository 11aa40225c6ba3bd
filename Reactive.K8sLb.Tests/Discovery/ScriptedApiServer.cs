using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// A deliberately misbehaving Kubernetes API for protocol edge cases the emulator does not produce: a plain TCP
/// listener on 127.0.0.1 that answers each HTTP/1.1 request with what the test's script says (or nothing at all),
/// then closes the connection. Counts LIST and WATCH requests.
/// </summary>
internal sealed class ScriptedApiServer : IAsyncDisposable
{
    private const string EmptyList = """{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSliceList","metadata":{"resourceVersion":"7"},"items":[]}""";
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _open = [];
    private readonly Func<bool, string?> _respond;
    private int _lists;
    private int _watches;

    /// <param name="respond">Given "is this a watch", the raw response to send, or null to send nothing (hang).</param>
    private ScriptedApiServer(Func<bool, string?> respond)
    {
        _respond = respond;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Lists => Volatile.Read(ref _lists);

    public int Watches => Volatile.Read(ref _watches);

    public k8s.KubernetesClientConfiguration ClientConfiguration => new() { Host = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}" };

    /// <summary>Every request is accepted and never answered.</summary>
    public static ScriptedApiServer Hanging() => new(_ => null);

    /// <summary>LIST returns an empty list; every WATCH gets a 200 with an empty body at once.</summary>
    public static ScriptedApiServer ClosingWatches() => new(watch => watch ? Response(200, string.Empty) : Response(200, EmptyList));

    /// <summary>LIST returns an empty list; every WATCH is answered with HTTP 410 Gone.</summary>
    public static ScriptedApiServer GoneWatches() => new(watch => watch
        ? Response(410, """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 7 (9)","reason":"Expired","code":410}""")
        : Response(200, EmptyList));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _open) client.Dispose();
        _stop.Dispose();
    }

    private static string Response(int status, string body) =>
        $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Gone")}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _open.Add(client);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            var requestLine = await reader.ReadLineAsync(_stop.Token) ?? string.Empty;
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token)))
            {
                // Skip the headers: GET requests have no body.
            }

            var watch = requestLine.Contains("watch=true", StringComparison.Ordinal);
            Interlocked.Increment(ref watch ? ref _watches : ref _lists);
            if (_respond(watch) is { } response)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(response), _stop.Token);
                client.Dispose();
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (IOException)
        {
            // The client went away.
        }
    }
}
