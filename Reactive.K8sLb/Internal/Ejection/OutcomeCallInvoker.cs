using Grpc.Core;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Reports every call's final status to the endpoint that served it, for outlier detection. grpc-dotnet's per-call hook
/// (<see cref="Grpc.Net.Client.Balancer.ISubchannelCallTracker"/>) completes when the response headers arrive, so it
/// never sees a status sent in the trailers (nor a trailers-only error response): this invoker wraps the channel's own
/// and reads the status when the call ends. The endpoint comes from the picker through <see cref="CallCapture"/>.
/// <list type="bullet">
/// <item>Unary and client-streaming calls: a pooled observer is attached to the response task (a cached delegate, no
/// closure) and returned to its pool when the call ends; the call object is the channel's own.</item>
/// <item>Server-streaming and duplex calls: the status is read when the call is disposed (gRPC asks callers to dispose
/// streaming calls); a call disposed before it ended was cancelled by the caller and is not counted. The wrapper call
/// and its state are two small objects per streaming call.</item>
/// </list>
/// A <see cref="StatusCode.DeadlineExceeded"/> call counts as a failure only when no response headers arrived
/// (<see cref="OutlierPolicy.Classify"/>); finding that out reads the call's headers task, on that path only.
/// </summary>
internal sealed class OutcomeCallInvoker(CallInvoker inner) : CallInvoker
{
    public CallInvoker Inner { get; } = inner;

    /// <inheritdoc />
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        // As grpc-dotnet does: a blocking call is an asynchronous call waited for.
        var call = AsyncUnaryCall(method, host, options, request);
        return call.ResponseAsync.GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var outer = CallCapture.Begin();
        AsyncUnaryCall<TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = Inner.AsyncUnaryCall(method, host, options, request);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return Watch(call, endpoint);
    }

    /// <inheritdoc />
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        var outer = CallCapture.Begin();
        AsyncClientStreamingCall<TRequest, TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = Inner.AsyncClientStreamingCall(method, host, options);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return Watch(call, endpoint);
    }

    /// <inheritdoc />
    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var outer = CallCapture.Begin();
        AsyncServerStreamingCall<TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = Inner.AsyncServerStreamingCall(method, host, options, request);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return Watch(call, endpoint);
    }

    /// <inheritdoc />
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        var outer = CallCapture.Begin();
        AsyncDuplexStreamingCall<TRequest, TResponse> call;
        EndpointHealth? endpoint;
        try
        {
            call = Inner.AsyncDuplexStreamingCall(method, host, options);
        }
        finally
        {
            endpoint = CallCapture.End(outer);
        }

        return Watch(call, endpoint);
    }

    /// <summary>Reports the unary call's status to <paramref name="endpoint"/> when it ends (nothing without an endpoint).</summary>
    internal static AsyncUnaryCall<TResponse> Watch<TResponse>(AsyncUnaryCall<TResponse> call, EndpointHealth? endpoint)
    {
        if (endpoint is not null) UnaryObserver<TResponse>.Observe(call, endpoint);
        return call;
    }

    /// <summary>Reports the client-streaming call's status to <paramref name="endpoint"/> when it ends.</summary>
    internal static AsyncClientStreamingCall<TRequest, TResponse> Watch<TRequest, TResponse>(AsyncClientStreamingCall<TRequest, TResponse> call, EndpointHealth? endpoint)
    {
        if (endpoint is not null) ClientStreamingObserver<TRequest, TResponse>.Observe(call, endpoint);
        return call;
    }

    /// <summary>A call that reports the server-streaming call's status to <paramref name="endpoint"/> when disposed.</summary>
    internal static AsyncServerStreamingCall<TResponse> Watch<TResponse>(AsyncServerStreamingCall<TResponse> call, EndpointHealth? endpoint)
    {
        if (endpoint is null) return call;
        return new AsyncServerStreamingCall<TResponse>(
            call.ResponseStream,
            static s => ((ServerStreamingState<TResponse>)s).Call.ResponseHeadersAsync,
            static s => ((ServerStreamingState<TResponse>)s).Call.GetStatus(),
            static s => ((ServerStreamingState<TResponse>)s).Call.GetTrailers(),
            static s => ((ServerStreamingState<TResponse>)s).Dispose(),
            new ServerStreamingState<TResponse>(call, endpoint));
    }

    /// <summary>A call that reports the duplex call's status to <paramref name="endpoint"/> when disposed.</summary>
    internal static AsyncDuplexStreamingCall<TRequest, TResponse> Watch<TRequest, TResponse>(AsyncDuplexStreamingCall<TRequest, TResponse> call, EndpointHealth? endpoint)
    {
        if (endpoint is null) return call;
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(
            call.RequestStream,
            call.ResponseStream,
            static s => ((DuplexStreamingState<TRequest, TResponse>)s).Call.ResponseHeadersAsync,
            static s => ((DuplexStreamingState<TRequest, TResponse>)s).Call.GetStatus(),
            static s => ((DuplexStreamingState<TRequest, TResponse>)s).Call.GetTrailers(),
            static s => ((DuplexStreamingState<TRequest, TResponse>)s).Dispose(),
            new DuplexStreamingState<TRequest, TResponse>(call, endpoint));
    }

    /// <summary>A watched streaming call: reports its status once, when it is disposed, then disposes it.</summary>
    private abstract class StreamingState(EndpointHealth endpoint)
    {
        private int _reported;

        public void Dispose()
        {
            try
            {
                if (Interlocked.Exchange(ref _reported, 1) == 0 && TryGetStatus(out var status))
                {
                    OutcomeRecorder.Record(endpoint, status, !OutcomeRecorder.NeedsHeaders(status) || ResponseHeaders().IsCompletedSuccessfully);
                }
            }
            catch (Exception)
            {
                // Counting must never keep the caller's call from being disposed.
            }
            finally
            {
                DisposeCall();
            }
        }

        protected abstract Task<Metadata> ResponseHeaders();

        protected abstract Status GetStatus();

        protected abstract void DisposeCall();

        private bool TryGetStatus(out Status status)
        {
            try
            {
                status = GetStatus();
                return true;
            }
            catch (InvalidOperationException)
            {
                // Not ended: the caller abandons the call, a cancellation (never counted).
                status = default;
                return false;
            }
        }
    }

    private sealed class ServerStreamingState<TResponse>(AsyncServerStreamingCall<TResponse> call, EndpointHealth endpoint) : StreamingState(endpoint)
    {
        public AsyncServerStreamingCall<TResponse> Call { get; } = call;

        protected override Task<Metadata> ResponseHeaders() => Call.ResponseHeadersAsync;

        protected override Status GetStatus() => Call.GetStatus();

        protected override void DisposeCall() => Call.Dispose();
    }

    private sealed class DuplexStreamingState<TRequest, TResponse>(AsyncDuplexStreamingCall<TRequest, TResponse> call, EndpointHealth endpoint) : StreamingState(endpoint)
    {
        public AsyncDuplexStreamingCall<TRequest, TResponse> Call { get; } = call;

        protected override Task<Metadata> ResponseHeaders() => Call.ResponseHeadersAsync;

        protected override Status GetStatus() => Call.GetStatus();

        protected override void DisposeCall() => Call.Dispose();
    }
}
