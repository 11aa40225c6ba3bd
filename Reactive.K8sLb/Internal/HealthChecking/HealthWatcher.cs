using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using Grpc.Core;
using Grpc.Health.V1;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal.HealthChecking;

/// <summary>
/// One endpoint's <c>grpc.health.v1.Health/Watch</c> stream (gRFC A17). It runs while the endpoint's subchannel is
/// Ready (<see cref="SetReady"/>), routed to that subchannel's connection by <see cref="HealthCheckRoute"/>. Each answer
/// sets or clears <see cref="ExclusionReasons.NotServing"/>, which the picker reads at every pick. A stream that fails
/// is reopened on the scheduler after a backoff (at once if it had answered); meanwhile the last answer stays.
/// <c>UNIMPLEMENTED</c> clears the exclusion and ends health checking of the endpoint for good.
/// <para>Never blocks its caller and never throws into it: the balancer calls <see cref="SetReady"/> and
/// <see cref="Dispose"/> under the channel's lock, so starting and cancelling the call are both posted to the
/// scheduler.</para>
/// </summary>
internal sealed class HealthWatcher : IDisposable
{
    private readonly object _lock = new();
    private readonly BalancerInstruments.Endpoint _endpoint;
    private readonly HealthCheckPolicy _policy;
    private readonly Health.HealthClient _client;
    private readonly IScheduler _scheduler;
    private readonly HealthReporter _reporter;
    private readonly SerialDisposable _pending = new();
    private CancellationTokenSource? _call;
    private TimeSpan _backoff;
    private DateTimeOffset _openedAt;
    private bool _ready;
    private bool _done;
    private HealthCheckResponse.Types.ServingStatus? _last;

    public HealthWatcher(BalancerInstruments.Endpoint endpoint, HealthCheckPolicy policy, CallInvoker invoker, IScheduler scheduler, HealthReporter reporter)
    {
        _endpoint = endpoint;
        _policy = policy;
        _client = new Health.HealthClient(invoker);
        _scheduler = scheduler;
        _reporter = reporter;
        _backoff = policy.InitialBackoff;
        endpoint.IsHealthChecked = true;
    }

    private EndpointHealth Health => _endpoint.Health;

    /// <summary>The subchannel entered or left Ready: open the stream soon, or close it (keeping the last answer).</summary>
    public void SetReady(bool ready)
    {
        lock (_lock)
        {
            if (_done || _ready == ready) return;
            _ready = ready;
            if (ready)
            {
                _backoff = _policy.InitialBackoff;
                _pending.Disposable = _scheduler.Schedule(Open);
            }
            else
            {
                _pending.Disposable = null;
                CancelCall();
            }
        }
    }

    /// <summary>Stops for good (the endpoint left the set, or the balancer is disposed).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_done) return;
            _done = true;
            _pending.Dispose();
            CancelCall();
        }

        _endpoint.IsHealthChecked = false;
    }

    private void CancelCall()
    {
        var call = _call;
        _call = null;
        if (call is null) return;

        // Cancelling runs the call's callbacks synchronously (grpc-dotnet's log through the channel's logger factory):
        // never under the channel's lock, and nothing they throw may reach the thread pool.
        _scheduler.Schedule(() =>
        {
            try
            {
                call.Cancel();
            }
            catch (Exception)
            {
                // The stream is abandoned either way.
            }
            finally
            {
                call.Dispose();
            }
        });
    }

    private void Open()
    {
        CancellationTokenSource call;
        lock (_lock)
        {
            if (_done || !_ready || _call is not null) return;
            call = _call = new CancellationTokenSource();
            _openedAt = _scheduler.Now;
        }

        _ = WatchAsync(call);
    }

    private async Task WatchAsync(CancellationTokenSource call)
    {
        var answered = false;
        string failure;
        try
        {
            var token = call.Token;
            var request = new HealthCheckRequest { Service = _policy.ServiceName };
            using var stream = _client.Watch(request, new CallOptions(HealthCheckRoute.MetadataFor(Health.Name), cancellationToken: token));
            while (await stream.ResponseStream.MoveNext(token).ConfigureAwait(false))
            {
                answered = true;
                OnAnswer(stream.ResponseStream.Current.Status);
            }

            failure = "the server ended the stream";
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.Unimplemented && !call.IsCancellationRequested)
        {
            OnUnimplemented(call);
            return;
        }
        catch (Exception) when (call.IsCancellationRequested)
        {
            // Stopped on purpose (the subchannel left Ready, the endpoint left, disposal).
            return;
        }
        catch (RpcException error)
        {
            failure = $"{error.StatusCode}: {error.Status.Detail}";
        }
        catch (Exception error)
        {
            failure = error.Message;
        }

        Retry(call, answered, failure);
    }

    private void OnAnswer(HealthCheckResponse.Types.ServingStatus status)
    {
        HealthCheckResponse.Types.ServingStatus? previous;
        lock (_lock)
        {
            if (_done) return;
            previous = _last;
            _last = status;
            _backoff = _policy.InitialBackoff;
        }

        if (previous == status) return;
        var serving = status == HealthCheckResponse.Types.ServingStatus.Serving;
        var changed = serving ? Health.Include(ExclusionReasons.NotServing) : Health.Exclude(ExclusionReasons.NotServing);
        Report(() => _reporter.Reported(_endpoint, StatusName(status), serving, changed));
    }

    private void OnUnimplemented(CancellationTokenSource call)
    {
        lock (_lock)
        {
            if (_done || _call != call) return;
            _done = true;
            _call = null;
            _pending.Dispose();
        }

        call.Dispose();

        Health.Include(ExclusionReasons.NotServing);
        _endpoint.IsHealthChecked = false;
        Report(() => _reporter.Unimplemented(_endpoint));
    }

    private void Retry(CancellationTokenSource call, bool answered, string failure)
    {
        TimeSpan delay;
        lock (_lock)
        {
            if (_call != call) return;
            _call = null;
            if (_done || !_ready) return;
            // A stream that answered is reopened at once, unless it lived less than the initial backoff (a Watch that
            // answers once and ends, as a Check would, must not spin).
            var backOff = !answered || _scheduler.Now - _openedAt < _policy.InitialBackoff;
            delay = backOff ? _backoff : TimeSpan.Zero;
            if (backOff) _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _policy.MaxBackoff.Ticks));

            _pending.Disposable = _scheduler.Schedule(delay, Open);
        }

        call.Dispose();
        Report(() => _reporter.StreamFailed(_endpoint, failure, delay));
    }

    /// <summary>Logs and metrics run user code (providers, listeners): what they throw stays here.</summary>
    private static void Report(Action report)
    {
        try
        {
            report();
        }
        catch (Exception)
        {
            // A broken logger or listener loses this report, nothing else.
        }
    }

    /// <summary>The protocol's name of a status (<c>SERVING</c>, <c>NOT_SERVING</c>, <c>SERVICE_UNKNOWN</c>, <c>UNKNOWN</c>).</summary>
    internal static string StatusName(HealthCheckResponse.Types.ServingStatus status) => status switch
    {
        HealthCheckResponse.Types.ServingStatus.Serving => "SERVING",
        HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
        HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    };
}
