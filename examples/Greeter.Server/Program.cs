// Greeter demo server: a plaintext HTTP/2 (h2c) gRPC server that names the pod serving each call.
//
// Settings (the host's configuration: environment variables, then the command line, which wins; on the command line
// as --NAME value, --NAME=value or the switch in brackets; --help lists them; a bad value exits with code 2):
//   LISTEN_ADDRESS            [--listen-address] 0.0.0.0 (default), [::] / :: / * (all interfaces, IPv6 dual-stack,
//                             falls back to IPv4), localhost, or any literal IPv4/IPv6 address.
//   GRPC_PORT                 [--port] 50051 (default).
//   POD_NAME                  [--pod-name] reported in every reply; defaults to "{host}:{port}".
//   SHUTDOWN_TIMEOUT_SECONDS  [--shutdown-timeout] 25 (default): how long SIGTERM waits for in-flight calls to drain.
//
// Shutdown: on SIGTERM the gRPC health service reports NOT_SERVING, Kestrel stops accepting connections,
// sends GOAWAY and waits up to SHUTDOWN_TIMEOUT_SECONDS for in-flight calls before the process exits.
using Greeter.Server;

if (ServerSettings.IsHelpRequest(args))
{
    Console.WriteLine(ServerSettings.Usage);
    return 0;
}

// Content root = the app directory, so appsettings.json is found whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(ServerSettings.Switches));
ServerSettings settings;
try
{
    settings = ServerSettings.From(builder.Configuration);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
    return 2;
}

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    settings.ConfigureEndpoint(kestrel);
});
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = settings.ShutdownTimeout);

builder.Services.AddSingleton(new PodIdentity(settings.PodName));
builder.Services.AddGrpc();
builder.Services
    .AddGrpcHealthChecks(options => options.Services.Map("greet.Greeter", _ => true))
    .AddCheck<ShutdownHealthCheck>("shutdown");

var app = builder.Build();
app.MapGrpcService<GreeterService>();
app.MapGrpcHealthChecksService();

var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Greeter.Server");
app.Lifetime.ApplicationStarted.Register(() => ServerLog.Listening(logger, settings.PodName, settings.ListenAddress, settings.Port));
app.Lifetime.ApplicationStopping.Register(() => ServerLog.Draining(logger, settings.ShutdownTimeout));

await app.RunAsync().ConfigureAwait(false);
return 0;
