namespace Greeter.Server;

/// <summary>Source-generated log messages with stable event ids.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Greeter server {Pod} listening on {Address}:{Port} (h2c)", EventName = "Listening")]
    public static partial void Listening(ILogger logger, string pod, string address, int port);

    [LoggerMessage(2, LogLevel.Information, "Shutdown requested: health is NOT_SERVING, draining in-flight calls for up to {Timeout}", EventName = "Draining")]
    public static partial void Draining(ILogger logger, TimeSpan timeout);
}
