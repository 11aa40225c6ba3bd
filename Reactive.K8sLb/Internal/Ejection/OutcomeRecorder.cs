using Grpc.Core;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Reports a watched call's final status. The endpoint's call tracker has already counted a transport error that came
/// before any response (grpc-dotnet completes the tracker with it): the final status of such a call (a status with a
/// <see cref="Status.DebugException"/> and no response headers) is not counted again.
/// </summary>
internal static class OutcomeRecorder
{
    /// <summary>Whether <see cref="Record"/> needs to know if response headers arrived (reading them costs a task).</summary>
    public static bool NeedsHeaders(Status status) =>
        status.StatusCode == StatusCode.DeadlineExceeded || status.DebugException is not null;

    public static void Record(EndpointHealth endpoint, Status status, bool responseHeadersReceived)
    {
        if (!responseHeadersReceived && status.DebugException is not null && status.StatusCode != StatusCode.DeadlineExceeded) return;
        endpoint.Record(status.StatusCode, responseHeadersReceived);
    }
}
