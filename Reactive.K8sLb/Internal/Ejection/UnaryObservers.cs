using Grpc.Core;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// Watches a call whose end is its response task (unary, client streaming) and reports its status to the endpoint.
/// Observers are pooled per response type and carry one cached continuation delegate, so watching a call allocates
/// nothing once the pool is warm: the continuation is attached with <c>UnsafeOnCompleted</c> (no execution context
/// captured, no closure) and the observer goes back to the pool when it has reported.
/// </summary>
internal abstract class ResponseObserver
{
    private readonly Action _onCompleted;
    private EndpointHealth? _endpoint;

    protected ResponseObserver() => _onCompleted = OnCompleted;

    protected void Watch(Task response, EndpointHealth endpoint)
    {
        _endpoint = endpoint;
        response.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onCompleted);
    }

    /// <summary>The call's final status (available once its response task completed).</summary>
    protected abstract Status GetStatus();

    protected abstract Task<Metadata> ResponseHeaders();

    /// <summary>Forgets the call and goes back to the pool.</summary>
    protected abstract void Release();

    private void OnCompleted()
    {
        var endpoint = _endpoint!;
        try
        {
            var status = GetStatus();
            OutcomeRecorder.Record(endpoint, status, !OutcomeRecorder.NeedsHeaders(status) || ResponseHeaders().IsCompletedSuccessfully);
        }
        catch (InvalidOperationException)
        {
            // No status (a call type that completes its response before its status): nothing to count.
        }
        catch (Exception)
        {
            // This runs on a thread-pool continuation: nothing may escape it (the detector's reports are guarded too).
        }
        finally
        {
            _endpoint = null;
            Release();
        }
    }
}

/// <summary>A fixed set of slots; renting from an empty pool creates, returning to a full one drops.</summary>
internal static class ObserverPool<T>
    where T : class
{
    private static readonly T?[] Slots = new T?[Math.Max(16, Environment.ProcessorCount * 4)];

    public static T? Rent()
    {
        for (var i = 0; i < Slots.Length; i++)
        {
            var item = Volatile.Read(ref Slots[i]);
            if (item is not null && Interlocked.CompareExchange(ref Slots[i], null, item) == item) return item;
        }

        return null;
    }

    public static void Return(T item)
    {
        for (var i = 0; i < Slots.Length; i++)
        {
            if (Volatile.Read(ref Slots[i]) is null && Interlocked.CompareExchange(ref Slots[i], item, null) is null) return;
        }
    }
}

internal sealed class UnaryObserver<TResponse> : ResponseObserver
{
    private AsyncUnaryCall<TResponse>? _call;

    public static void Observe(AsyncUnaryCall<TResponse> call, EndpointHealth endpoint)
    {
        var observer = ObserverPool<UnaryObserver<TResponse>>.Rent() ?? new UnaryObserver<TResponse>();
        observer._call = call;
        observer.Watch(call.ResponseAsync, endpoint);
    }

    protected override Status GetStatus() => _call!.GetStatus();

    protected override Task<Metadata> ResponseHeaders() => _call!.ResponseHeadersAsync;

    protected override void Release()
    {
        _call = null;
        ObserverPool<UnaryObserver<TResponse>>.Return(this);
    }
}

internal sealed class ClientStreamingObserver<TRequest, TResponse> : ResponseObserver
{
    private AsyncClientStreamingCall<TRequest, TResponse>? _call;

    public static void Observe(AsyncClientStreamingCall<TRequest, TResponse> call, EndpointHealth endpoint)
    {
        var observer = ObserverPool<ClientStreamingObserver<TRequest, TResponse>>.Rent() ?? new ClientStreamingObserver<TRequest, TResponse>();
        observer._call = call;
        observer.Watch(call.ResponseAsync, endpoint);
    }

    protected override Status GetStatus() => _call!.GetStatus();

    protected override Task<Metadata> ResponseHeaders() => _call!.ResponseHeadersAsync;

    protected override void Release()
    {
        _call = null;
        ObserverPool<ClientStreamingObserver<TRequest, TResponse>>.Return(this);
    }
}
