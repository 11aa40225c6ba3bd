using Grpc.Core;
using Grpc.Core.Interceptors;
using Reactive.K8sLb.Internal.Ejection;

namespace Reactive.K8sLb;

/// <summary>
/// Reports every call's final status to the <c>newest_first_round_robin</c> policy's outlier detection, for channels
/// the library does not build: a <c>k8s:///</c> channel from <c>GrpcChannel.ForAddress</c>
/// (<c>channel.Intercept(new OutlierDetectionInterceptor())</c>) or a client from <c>AddGrpcClient</c>
/// (<c>.AddInterceptor(() =&gt; new OutlierDetectionInterceptor())</c>). <see cref="BalancedChannel"/> needs none: it
/// reports through its own call invoker, at no cost per call.
/// </summary>
/// <remarks>
/// grpc-dotnet shows a balancing policy only the outcome of a call when its response headers arrive: transport errors
/// count, but a status the server sends (for example <c>Unavailable</c> from a pod whose dependency died) does not.
/// This interceptor reads the final status when the call ends (unary and client-streaming calls: when the response
/// arrives; server-streaming and duplex calls: when the call is disposed). It must be the innermost interceptor (the
/// last added), so that the call it sees starting is the channel's. With a retry or hedging policy in the service
/// config, leave it out: a retried call's final status may come from another endpoint than its first attempt.
/// grpc-dotnet's interceptor plumbing allocates a continuation per call; the reporting itself adds the response task's
/// continuation list (about 90 bytes) for unary and client-streaming calls, and two small objects per streaming call.
/// </remarks>
public sealed class OutlierDetectionInterceptor : Interceptor
{
    /// <inheritdoc />
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var outer = CallCapture.Begin();
        try
        {
            var response = continuation(request, context);
            CallCapture.End(outer)?.Record(StatusCode.OK, responseHeadersReceived: true);
            return response;
        }
        catch (RpcException error)
        {
            // The headers are out of sight here: a deadline counts as one without an answer.
            if (CallCapture.End(outer) is { } endpoint) OutcomeRecorder.Record(endpoint, error.Status, responseHeadersReceived: false);
            throw;
        }
        catch
        {
            CallCapture.End(outer);
            throw;
        }
    }

    /// <inheritdoc />
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var outer = CallCapture.Begin();
        AsyncUnaryCall<TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = continuation(request, context);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return OutcomeCallInvoker.Watch(call, endpoint);
    }

    /// <inheritdoc />
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var outer = CallCapture.Begin();
        AsyncClientStreamingCall<TRequest, TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = continuation(context);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return OutcomeCallInvoker.Watch(call, endpoint);
    }

    /// <inheritdoc />
    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var outer = CallCapture.Begin();
        AsyncServerStreamingCall<TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = continuation(request, context);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return OutcomeCallInvoker.Watch(call, endpoint);
    }

    /// <inheritdoc />
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var outer = CallCapture.Begin();
        AsyncDuplexStreamingCall<TRequest, TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = continuation(context);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return OutcomeCallInvoker.Watch(call, endpoint);
    }
}
