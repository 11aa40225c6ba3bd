using Grpc.Core;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Ejection;

/// <summary>
/// The call invoker that reports each call's final status: every call type, with an inner invoker that picks like
/// grpc-dotnet (synchronously, claiming the call through <see cref="CallCapture"/>) and ends calls as a test says.
/// </summary>
public sealed class OutcomeCallInvokerTests
{
    private static readonly Method<string, string> Unary = Method(MethodType.Unary);

    [TestCase(StatusCode.OK, 1, 0)]
    [TestCase(StatusCode.NotFound, 1, 0)]
    [TestCase(StatusCode.Unavailable, 0, 1)]
    [TestCase(StatusCode.Internal, 0, 1)]
    [TestCase(StatusCode.Cancelled, 0, 0)]
    public async Task UnaryCall_CountsItsFinalStatus(StatusCode code, int successes, int failures)
    {
        using var world = new World();
        var call = world.Invoker.AsyncUnaryCall(Unary, null, default, "x");

        await world.Inner.EndOnAnotherThread(code);
        await Ended(call.ResponseAsync);

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo(((long)successes, (long)failures)));
    }

    [TestCase(false, 1)]
    [TestCase(true, 0)]
    public async Task UnaryDeadline_CountsOnlyWithoutAnAnswer(bool headersArrived, int failures)
    {
        using var world = new World();
        var call = world.Invoker.AsyncUnaryCall(Unary, null, default, "x");

        await world.Inner.EndOnAnotherThread(StatusCode.DeadlineExceeded, headersArrived);
        await Ended(call.ResponseAsync);

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, (long)failures)));
    }

    [Test]
    public async Task CallNotPickedSynchronously_IsLeftToTheCallTracker()
    {
        using var world = new World(claim: false);
        var call = world.Invoker.AsyncUnaryCall(Unary, null, default, "x");

        await world.Inner.EndOnAnotherThread(StatusCode.Unavailable);
        await Ended(call.ResponseAsync);

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, 0L)));
    }

    [Test]
    public async Task ManyUnaryCalls_EachCountedOnce()
    {
        // Observers are pooled: a reused one must report its own call only.
        using var world = new World();
        for (var i = 0; i < 100; i++)
        {
            var call = world.Invoker.AsyncUnaryCall(Unary, null, default, "x");
            await world.Inner.EndOnAnotherThread(i % 10 == 0 ? StatusCode.Unavailable : StatusCode.OK);
            await Ended(call.ResponseAsync);
        }

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((90L, 10L)));
    }

    [Test]
    public async Task BlockingUnaryCall_CountsItsFinalStatus()
    {
        using var world = new World();
        world.Inner.EndImmediately = StatusCode.Unavailable;

        Assert.That(() => world.Invoker.BlockingUnaryCall(Unary, null, default, "x"), Throws.TypeOf<RpcException>());

        // The call ended before the observer was attached: its continuation is queued.
        await Eventually.That(() => world.Endpoint.ConsecutiveFailures == 1, "the failure is counted");
        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, 1L)));
    }

    [Test]
    public async Task ClientStreamingCall_CountsItsFinalStatus()
    {
        using var world = new World();
        var call = world.Invoker.AsyncClientStreamingCall(Method(MethodType.ClientStreaming), null, default);

        await world.Inner.EndOnAnotherThread(StatusCode.Unavailable);
        await Ended(call.ResponseAsync);

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, 1L)));
    }

    [TestCase(StatusCode.OK, 1, 0)]
    [TestCase(StatusCode.Unavailable, 0, 1)]
    public void ServerStreamingCall_CountsItsFinalStatusWhenDisposed(StatusCode code, int successes, int failures)
    {
        using var world = new World();
        var call = world.Invoker.AsyncServerStreamingCall(Method(MethodType.ServerStreaming), null, default, "x");
        world.Inner.End(code);
        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, 0L)), "nothing before disposal");

        call.Dispose();

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo(((long)successes, (long)failures)));
        Assert.That(world.Inner.Disposed, Is.EqualTo(1));
        Assert.That(call.GetStatus().StatusCode, Is.EqualTo(code), "the wrapper shows the call's status");
    }

    [Test]
    public void StreamingCall_DisposedBeforeItEnded_IsACancellationAndNotCounted()
    {
        using var world = new World();
        var call = world.Invoker.AsyncDuplexStreamingCall(Method(MethodType.DuplexStreaming), null, default);

        call.Dispose();
        call.Dispose();

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, 0L)));
        Assert.That(world.Inner.Disposed, Is.EqualTo(2), "every disposal reaches the call");
    }

    [Test]
    public void DuplexStreamingCall_CountsItsFinalStatusOnce()
    {
        using var world = new World();
        var call = world.Invoker.AsyncDuplexStreamingCall(Method(MethodType.DuplexStreaming), null, default);
        world.Inner.End(StatusCode.Internal);

        call.Dispose();
        call.Dispose();

        Assert.That(world.Endpoint.TakeInterval(), Is.EqualTo((0L, 1L)));
    }

    [Test]
    public void BalancedChannel_WatchesFinalStatuses_UnlessCallsAreRetried()
    {
        var retried = new Grpc.Net.Client.Configuration.ServiceConfig
        {
            LoadBalancingConfigs = { new NewestFirstRoundRobinConfig() },
            MethodConfigs =
            {
                new Grpc.Net.Client.Configuration.MethodConfig
                {
                    Names = { Grpc.Net.Client.Configuration.MethodName.Default },
                    RetryPolicy = new Grpc.Net.Client.Configuration.RetryPolicy
                    {
                        MaxAttempts = 3,
                        InitialBackoff = TimeSpan.FromMilliseconds(10),
                        MaxBackoff = TimeSpan.FromMilliseconds(100),
                        BackoffMultiplier = 2,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },
        };
        using var plain = BalancedChannel.Create();
        using var retrying = BalancedChannel.Create(new Grpc.Net.Client.GrpcChannelOptions { ServiceConfig = retried });

        Assert.That(plain.CreateCallInvoker(), Is.InstanceOf<OutcomeCallInvoker>());
        Assert.That(retrying.CreateCallInvoker(), Is.Not.InstanceOf<OutcomeCallInvoker>(), "a retried call's status may come from another endpoint");
    }

    private static async Task Ended(Task response)
    {
        try
        {
            await response;
        }
        catch (RpcException)
        {
            // The status is what the test looks at.
        }

    }

    private static Method<string, string> Method(MethodType type) =>
        new(type, "svc", "m", Marshallers.StringMarshaller, Marshallers.StringMarshaller);

    private sealed class World : IEjectionObserver, IDisposable
    {
        private readonly OutlierDetector _detector;

        public World(bool claim = true)
        {
            var policy = OutlierPolicy.From(new OutlierDetectionOptions { ConsecutiveFailures = 0 })!;
            _detector = new OutlierDetector(policy, new TestScheduler(), this);
            Endpoint = _detector.Add("e");
            Inner = new FakeInvoker(claim ? Endpoint : null);
            Invoker = new OutcomeCallInvoker(Inner);
        }

        public EndpointHealth Endpoint { get; }

        public FakeInvoker Inner { get; }

        public OutcomeCallInvoker Invoker { get; }

        public void Ejected(EndpointHealth endpoint, EjectionReason reason, TimeSpan duration, string evidence)
        {
        }

        public void Readmitted(EndpointHealth endpoint, TimeSpan ejectedFor)
        {
        }

        public void EjectionRefused(EndpointHealth endpoint, string evidence, string why)
        {
        }

        public void Dispose() => _detector.Dispose();
    }

    /// <summary>Picks like grpc-dotnet's channel (synchronously, on the caller's thread) and ends the last call when told.</summary>
    private sealed class FakeInvoker(EndpointHealth? picked) : CallInvoker
    {
        private TaskCompletionSource<string> _response = new();
        private TaskCompletionSource<Metadata> _headers = new();
        private Status? _status;

        public int Disposed { get; private set; }

        public StatusCode? EndImmediately { get; set; }

        /// <summary>Ends the call from a thread without a synchronization context, as grpc-dotnet does: continuations
        /// attached without one (the observer's) run inline, before this returns.</summary>
        public Task EndOnAnotherThread(StatusCode code, bool headersArrived = true) => Task.Run(() => End(code, headersArrived));

        public void End(StatusCode code, bool headersArrived = true)
        {
            _status = new Status(code, "test");
            if (headersArrived) _headers.TrySetResult([]);
            else _headers.TrySetException(new RpcException(_status.Value));
            if (code == StatusCode.OK) _response.TrySetResult("ok");
            else _response.TrySetException(new RpcException(_status.Value));
        }

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
            throw new NotSupportedException();

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            Start();
            return new AsyncUnaryCall<TResponse>(Response<TResponse>(), _headers.Task, GetStatus, () => [], () => Disposed++);
        }

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
        {
            Start();
            return new AsyncClientStreamingCall<TRequest, TResponse>(null!, Response<TResponse>(), _headers.Task, GetStatus, () => [], () => Disposed++);
        }

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        {
            Start();
            return new AsyncServerStreamingCall<TResponse>(null!, _headers.Task, GetStatus, () => [], () => Disposed++);
        }

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
        {
            Start();
            return new AsyncDuplexStreamingCall<TRequest, TResponse>(null!, null!, _headers.Task, GetStatus, () => [], () => Disposed++);
        }

        private void Start()
        {
            _response = new TaskCompletionSource<string>();
            _headers = new TaskCompletionSource<Metadata>();
            _status = null;
            if (picked is not null) CallCapture.TryClaim(picked);
            if (EndImmediately is { } code) End(code);
        }

        private async Task<TResponse> Response<TResponse>() => (TResponse)(object)await _response.Task.ConfigureAwait(false);

        private Status GetStatus() => _status ?? throw new InvalidOperationException("Unable to get the status because the call is not complete.");
    }
}
