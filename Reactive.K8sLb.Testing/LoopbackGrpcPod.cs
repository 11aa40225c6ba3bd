using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Testing;

/// <summary>
/// Hosts a real gRPC service as a stand-in for a pod: Kestrel, HTTP/2 cleartext only, on one loopback address
/// (127.0.0.2, 127.0.0.3, ... all reach this machine on Linux) and a port shared by every pod, like pod IPs behind one
/// Service port. Pair it with <see cref="KubernetesApiEmulator"/> to test a client against "pods" without a cluster.
/// Only loopback addresses are accepted, so a test can never send traffic off the machine.
/// </summary>
public static class LoopbackGrpcPod
{
    /// <summary>A TCP port that is free on <paramref name="probe"/> (default 127.0.0.2) right now, for all pods to share.</summary>
    /// <param name="probe">A loopback address to probe on.</param>
    /// <returns>The port.</returns>
    public static int FreePort(IPAddress? probe = null)
    {
        var address = RequireLoopback(probe ?? IPAddress.Parse("127.0.0.2"));
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// Starts a gRPC service on <paramref name="address"/>:<paramref name="port"/>. Stop it with
    /// <c>StopAsync</c> (graceful: GOAWAY, in-flight calls complete within 5 s) and dispose it.
    /// </summary>
    /// <typeparam name="TService">The gRPC service implementation to map.</typeparam>
    /// <param name="address">A loopback address.</param>
    /// <param name="port">The port.</param>
    /// <param name="configureServices">Registers what the service needs (for example its pod identity).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The started application.</returns>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not a loopback address.</exception>
    public static async Task<WebApplication> StartAsync<TService>(IPAddress address, int port, Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(address);
        RequireLoopback(address);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapGrpcService<TService>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }

    private static IPAddress RequireLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address) ? address : throw new ArgumentException($"{address} is not a loopback address; pods must stay on this machine.", nameof(address));
}
