using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// The listening half of the raw HTTP/1.1 fake API servers (<see cref="ScriptedApiServer"/>,
/// <c>Fleet.KeepAliveApiServer</c>): a TCP listener on 127.0.0.1 whose accept loop hands every connection to the
/// server's handler (synchronously up to its first await, so connections are handled in accept order), and which stops
/// on disposal, closing every connection it accepted. What to answer is each server's own business.
/// </summary>
internal sealed class LoopbackTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _open = [];
    private readonly Func<TcpClient, CancellationToken, Task> _serve;

    /// <param name="serve">Handles one connection; the token is cancelled when the server stops.</param>
    public LoopbackTcpServer(Func<TcpClient, CancellationToken, Task> serve)
    {
        _serve = serve;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    /// <summary>A client configuration for this server (plain http: the client speaks HTTP/1.1).</summary>
    public k8s.KubernetesClientConfiguration ClientConfiguration => new() { Host = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}" };

    /// <summary>Reads a request line and skips the headers (GET requests have no body); null when the connection ended first.</summary>
    public static async Task<string?> ReadRequestLineAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var requestLine = await reader.ReadLineAsync(cancellationToken);
        if (requestLine is null) return null;
        while (!string.IsNullOrEmpty(await reader.ReadLineAsync(cancellationToken)))
        {
            // A header.
        }

        return requestLine;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var client in _open) client.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(stopping);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }

            _open.Add(client);
            _ = _serve(client, stopping);
        }
    }
}
