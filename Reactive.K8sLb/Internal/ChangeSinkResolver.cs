using System.Net;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// A push resolver whose address set is driven by changes (a change sink). It always reports the FULL set.
/// <para>
/// Conflation: every state change only marks the resolver dirty and schedules one publish on the scheduler; the
/// publish takes a snapshot of the latest state under the lock and calls the listener outside it. While a publish
/// is scheduled or running no other is scheduled; when it finishes and the state became dirty meanwhile, one more is
/// scheduled. So a batch applied in one step causes at most two listener calls (one already running plus one), the
/// latest set always wins, and listener calls are serialized and never re-entrant. <see cref="Refresh"/> only marks
/// dirty and schedules: it never blocks on a publish and never calls the listener synchronously (the channel may
/// call it while holding its own lock, grpc/grpc-dotnet#2380).
/// </para>
/// <para>
/// What is published: nothing before the first synchronisation (the channel's calls wait); a failure
/// (<see cref="StatusCode.Unavailable"/>) while discovery fails and was never synchronized; otherwise the full set,
/// including an empty one (note grpc/grpc-dotnet#1860: an empty list while the channel is Ready is ignored upstream
/// and existing connections stay until they die). A failure after synchronisation keeps the last known set.
/// </para>
/// </summary>
internal sealed class ChangeSinkResolver : Resolver, IDiscoveryUpdateSink
{
    private readonly object _gate = new();
    private readonly IScheduler _scheduler;
    private readonly ServiceConfig? _serviceConfig;
    private readonly ILogger _logger;
    private readonly string _target;
    private readonly Func<ChangeSinkResolver, IDisposable>? _connect;

    // Keyed by the DnsEndPoint: that is how the channel matches subchannels across updates.
    private readonly Dictionary<DnsEndPoint, BalancerAddress> _addresses = [];
    private Action<ResolverResult>? _listener;
    private IDisposable? _connection;
    private bool _synchronized;
    private Status? _failure;
    private bool _dirty;
    private bool _publishScheduled;
    private bool _disposed;

    /// <summary>Creates a resolver.</summary>
    /// <param name="target">The channel target, for logs.</param>
    /// <param name="scheduler">Where publishes run; must be asynchronous (not the immediate or current-thread scheduler).</param>
    /// <param name="serviceConfig">The service config to report with every address list, or <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="connect">Subscribes the change source when the channel starts the resolver (scheduled, so a
    /// slow Subscribe cannot block the channel); the returned subscription is disposed with the resolver. <see langword="null"/> when changes are pushed from outside.</param>
    public ChangeSinkResolver(string target, IScheduler scheduler, ServiceConfig? serviceConfig, ILoggerFactory loggerFactory, Func<ChangeSinkResolver, IDisposable>? connect = null)
    {
        // Publishing inline would call the listener from Refresh(), which the channel may call under its own lock
        // (grpc/grpc-dotnet#2380): a deadlock. Refuse schedulers that run work on the calling thread.
        if (scheduler is ImmediateScheduler or CurrentThreadScheduler)
        {
            throw new ArgumentException($"The resolver's scheduler must run work asynchronously; {scheduler.GetType().Name} runs it on the calling thread.", nameof(scheduler));
        }

        _target = target;
        _scheduler = scheduler;
        _serviceConfig = serviceConfig;
        _logger = loggerFactory.CreateLogger("Reactive.K8sLb.Resolver");
        _connect = connect;
    }

    /// <summary>Number of addresses in the current set (for tests and logs).</summary>
    internal int Count
    {
        get
        {
            lock (_gate) return _addresses.Count;
        }
    }

    /// <inheritdoc />
    public override void Start(Action<ResolverResult> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null) throw new InvalidOperationException("The resolver has already been started.");
            _listener = listener;
            if (_synchronized || _failure is not null) MarkDirtyLocked();
        }

        // Subscribing the source is scheduled too: Start must not block the channel, whatever the source does.
        if (_connect is not null) _scheduler.Schedule(Connect);
    }

    /// <inheritdoc />
    public override void Refresh()
    {
        lock (_gate)
        {
            if (_disposed) return;
            MarkDirtyLocked();
        }
    }

    /// <summary>Applies changes as a plain change stream: the first change counts as synchronisation.</summary>
    /// <param name="changes">The changes, in order.</param>
    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes)
    {
        lock (_gate)
        {
            if (_disposed || changes.Count == 0) return;
            var changed = ApplyLocked(changes);
            if (!_synchronized)
            {
                _synchronized = true;
                _failure = null;
                changed = true;
            }

            if (changed) MarkDirtyLocked();
        }
    }

    /// <inheritdoc />
    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryStatus status)
    {
        lock (_gate)
        {
            if (_disposed) return;
            var changed = ApplyLocked(changes);
            if (status.IsSynchronized && !_synchronized)
            {
                _synchronized = true;
                _failure = null;
                changed = true;
            }

            if (status.Health == DiscoveryHealth.Failing)
            {
                changed |= FailLocked(status.Message ?? status.Error?.Message, status.Error);
            }

            // Before the first synchronisation nothing but a failure is published.
            if (changed && (_synchronized || _failure is not null)) MarkDirtyLocked();
        }
    }

    /// <summary>Records a failure of the change source (an error notification).</summary>
    /// <param name="error">The error.</param>
    public void Fail(Exception error)
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (FailLocked(error.Message, error)) MarkDirtyLocked();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        IDisposable? connection;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            connection = _connection;
            _connection = null;
            _listener = null;
        }

        connection?.Dispose();
        base.Dispose(disposing);
    }

    private void Connect()
    {
        lock (_gate)
        {
            if (_disposed) return;
        }

        var connection = _connect!(this);
        lock (_gate)
        {
            if (!_disposed)
            {
                _connection = connection;
                return;
            }
        }

        connection.Dispose();
    }

    private bool ApplyLocked(IReadOnlyList<Change<BalancerAddress>> changes)
    {
        foreach (var change in changes)
        {
            // Validate the whole batch first: a bad change must not leave half a batch applied.
            if (change.Item is null) throw new ArgumentException("A change's address must not be null.", nameof(changes));
        }

        var changed = false;
        foreach (var change in changes)
        {
            var address = change.Item;
            var key = address.EndPoint;
            if (change.Kind == ChangeKind.Insert)
            {
                if (!_addresses.TryGetValue(key, out var existing) || !SameAttributes(existing, address))
                {
                    _addresses[key] = address;
                    changed = true;
                }
            }
            else
            {
                changed |= _addresses.Remove(key);
            }
        }

        return changed;
    }

    /// <returns>Whether a new failure result must be published (only when never synchronized).</returns>
    private bool FailLocked(string? message, Exception? error)
    {
        var detail = "Kubernetes discovery failing: " + (string.IsNullOrEmpty(message) ? "unknown error" : message);
        if (_synchronized)
        {
            Log.KeepingLastKnown(_logger, _target, _addresses.Count, detail);
            return false;
        }

        if (_failure is { } previous && previous.Detail == detail) return false;
        _failure = new Status(StatusCode.Unavailable, detail, error);
        return true;
    }

    private void MarkDirtyLocked()
    {
        _dirty = true;
        if (_listener is null || _publishScheduled) return;
        _publishScheduled = true;
        _scheduler.Schedule(Publish);
    }

    private void Publish()
    {
        ResolverResult? result = null;
        Action<ResolverResult>? listener;
        lock (_gate)
        {
            listener = _listener;
            if (_disposed || listener is null || !_dirty)
            {
                _publishScheduled = false;
                return;
            }

            _dirty = false;
            if (_synchronized)
            {
                result = ResolverResult.ForResult([.. _addresses.Values], _serviceConfig, serviceConfigStatus: null);
                Log.PublishedAddresses(_logger, _target, _addresses.Count);
            }
            else if (_failure is { } failure)
            {
                result = ResolverResult.ForFailure(failure);
                Log.PublishedFailure(_logger, _target, failure.Detail);
            }
        }

        try
        {
            if (result is not null) listener(result);
        }
#pragma warning disable CA1031 // A throwing listener must not kill the scheduler's thread nor stop later publishes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ListenerFailed(_logger, _target, ex);
        }
        finally
        {
            lock (_gate)
            {
                _publishScheduled = false;
                if (_dirty && !_disposed) MarkDirtyLocked();
            }
        }
    }

    private static bool SameAttributes(BalancerAddress a, BalancerAddress b)
    {
        IReadOnlyDictionary<string, object?> x = a.Attributes, y = b.Attributes;
        if (x.Count != y.Count) return false;
        foreach (var (key, value) in x)
        {
            if (!y.TryGetValue(key, out var other) || !Equals(value, other)) return false;
        }

        return true;
    }
}
