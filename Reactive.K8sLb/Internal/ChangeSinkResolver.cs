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
/// scheduled. So a batch applied in one step causes at most two publishes (one already running plus one), the
/// latest set always wins, and listener calls are serialized and never re-entrant. <see cref="Refresh"/> only marks
/// dirty and schedules: it never blocks on a publish and never calls the listener synchronously (the channel may
/// call it while holding its own lock, grpc/grpc-dotnet#2380).
/// </para>
/// <para>
/// What is published, so that every call ends by its deadline or with the reason (grpc-dotnet waits for the first
/// resolver result without the call's deadline, so the first result goes out at <see cref="Start"/>):
/// <list type="bullet">
/// <item>synchronized, addresses: the full set;</item>
/// <item>synchronized, no address: a failure naming why (no ready endpoints, a port no slice defines, ...);</item>
/// <item>never synchronized: "waiting for the first snapshot" (the library's balancer queues calls, bounded by their
/// deadlines; other policies fail them at once), after <see cref="DefaultFirstSnapshotWait"/> a failure saying the
/// snapshot is overdue, and while discovery fails its reason;</item>
/// <item>on dispose: a last failure, so a call still waiting ends at once.</item>
/// </list>
/// Every failure is <see cref="StatusCode.Unavailable"/> with an <see cref="AddressSetUnavailableException"/> as its
/// debug exception. A discovery failure after synchronisation keeps the last known set. When a service config is
/// given, the first failure is preceded by an empty list with that config, so the channel selects the configured
/// policy before any call picks.
/// </para>
/// <para>Dispose waits for a publish in flight (it takes the same gate), so nothing reaches a disposed channel.</para>
/// </summary>
internal sealed class ChangeSinkResolver : Resolver, IDiscoveryUpdateSink
{
    /// <summary>How long calls may wait for the first snapshot before they fail with <c>Unavailable</c>.</summary>
    public static readonly TimeSpan DefaultFirstSnapshotWait = TimeSpan.FromSeconds(10);

    private readonly object _gate = new();

    // Held while the listener runs; Dispose takes it too, so it cannot return with a publish in flight.
    private readonly object _publishGate = new();
    private readonly IScheduler _scheduler;
    private readonly ServiceConfig? _serviceConfig;
    private readonly ILogger _logger;
    private readonly string _target;
    private readonly string _subject;
    private readonly TimeSpan _firstSnapshotWait;
    private readonly Func<ChangeSinkResolver, IDisposable>? _connect;

    // Keyed by the DnsEndPoint: that is how the channel matches subchannels across updates.
    private readonly Dictionary<DnsEndPoint, BalancerAddress> _addresses = [];
    private Action<ResolverResult>? _listener;
    private IDisposable? _connection;
    private IDisposable? _firstSnapshotTimer;
    private bool _synchronized;
    private bool _overdue;
    private (string Message, Exception? Error)? _failure;
    private string? _statusMessage;
    private bool _statusFailing;
    private int _skippedEndpoints;
    private bool _everPublished;
    private bool _dirty;
    private bool _publishScheduled;
    private bool _disposed;

    /// <summary>Creates a resolver.</summary>
    /// <param name="target">The channel target, for logs.</param>
    /// <param name="scheduler">Where publishes and the first-snapshot timer run; must be asynchronous (not the
    /// immediate or current-thread scheduler).</param>
    /// <param name="serviceConfig">The service config to report with every address list, or <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="connect">Subscribes the change source when the channel starts the resolver (scheduled, so a
    /// slow Subscribe cannot block the channel); the returned subscription is disposed with the resolver. <see langword="null"/> when changes are pushed from outside.</param>
    /// <param name="subject">What the addresses are of, for failure texts (e.g. "Service demo/greeter"); <see langword="null"/> for the target.</param>
    /// <param name="firstSnapshotWait">How long calls may wait for the first snapshot; <see langword="null"/> for <see cref="DefaultFirstSnapshotWait"/>.</param>
    public ChangeSinkResolver(
        string target,
        IScheduler scheduler,
        ServiceConfig? serviceConfig,
        ILoggerFactory loggerFactory,
        Func<ChangeSinkResolver, IDisposable>? connect = null,
        string? subject = null,
        TimeSpan? firstSnapshotWait = null)
    {
        // Publishing inline would call the listener from Refresh(), which the channel may call under its own lock
        // (grpc/grpc-dotnet#2380): a deadlock. Refuse schedulers that run work on the calling thread.
        if (scheduler is ImmediateScheduler or CurrentThreadScheduler)
        {
            throw new ArgumentException($"The resolver's scheduler must run work asynchronously; {scheduler.GetType().Name} runs it on the calling thread.", nameof(scheduler));
        }

        _target = target;
        _subject = subject ?? target;
        _scheduler = scheduler;
        _serviceConfig = serviceConfig;
        _logger = loggerFactory.CreateLogger("Reactive.K8sLb.Resolver");
        _connect = connect;
        _firstSnapshotWait = firstSnapshotWait ?? DefaultFirstSnapshotWait;
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

            // The channel's calls wait for a first result without their deadlines: give them one at once.
            MarkDirtyLocked();
            if (!_synchronized) _firstSnapshotTimer = _scheduler.Schedule(_firstSnapshotWait, OnFirstSnapshotOverdue);
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
            changed |= SynchronizeLocked();
            if (changed) MarkDirtyLocked();
        }
    }

    /// <summary>Applies changes and the status after them, with no endpoint skipped.</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <param name="status">The status after the changes.</param>
    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryStatus status) => Apply(changes, status, skippedEndpoints: 0);

    /// <inheritdoc />
    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryStatus status, int skippedEndpoints)
    {
        lock (_gate)
        {
            if (_disposed) return;
            var changed = ApplyLocked(changes);
            if (status.IsSynchronized) changed |= SynchronizeLocked();

            var failing = status.Health == DiscoveryHealth.Failing;
            if (_synchronized)
            {
                if (failing && (!_statusFailing || _statusMessage != status.Message))
                {
                    Log.KeepingLastKnown(_logger, _target, _addresses.Count, "Kubernetes discovery failing: " + (status.Message ?? status.Error?.Message));
                }

                // The texts of the empty set depend on these; a non-empty set does not.
                var textChanged = _statusMessage != status.Message || _statusFailing != failing || _skippedEndpoints != skippedEndpoints;
                changed |= textChanged && _addresses.Count == 0;
            }
            else if (failing)
            {
                changed |= FailLocked(status.Message ?? status.Error?.Message, status.Error);
            }

            _statusMessage = status.Message;
            _statusFailing = failing;
            _skippedEndpoints = skippedEndpoints;
            if (changed) MarkDirtyLocked();
        }
    }

    /// <summary>Records a failure of the change source (an error notification).</summary>
    /// <param name="error">The error.</param>
    public void Fail(Exception error)
    {
        lock (_gate)
        {
            if (_disposed) return;
            if (_synchronized)
            {
                Log.KeepingLastKnown(_logger, _target, _addresses.Count, "The address source failed: " + error.Message);
                return;
            }

            if (FailLocked(error.Message, error)) MarkDirtyLocked();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        IDisposable? connection, timer;
        lock (_publishGate)
        {
            Action<ResolverResult>? listener;
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                connection = _connection;
                timer = _firstSnapshotTimer;
                listener = _listener;
                _connection = _firstSnapshotTimer = null;
                _listener = null;
            }

            // A call may still wait for a first result or for a picker: end it now, with a clear status.
            if (listener is not null)
            {
                var status = Unavailable(AddressSetUnavailableReason.Disposed, $"The channel for {_subject} was disposed.");
                Invoke(listener, ResolverResult.ForFailure(status));
            }
        }

        timer?.Dispose();
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

    private void OnFirstSnapshotOverdue()
    {
        lock (_gate)
        {
            // A failure already tells why there is no snapshot; the overdue text would only replace it.
            if (_disposed || _synchronized || _failure is not null) return;
            _overdue = true;
            MarkDirtyLocked();
        }
    }

    private bool SynchronizeLocked()
    {
        if (_synchronized) return false;
        _synchronized = true;
        _failure = null;
        _firstSnapshotTimer?.Dispose();
        _firstSnapshotTimer = null;
        return true;
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
                if (!_addresses.TryGetValue(key, out var existing) || !BalancerAddressComparer.SameAttributes(existing, address))
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

    /// <returns>Whether the failure text changed (only called while never synchronized).</returns>
    private bool FailLocked(string? message, Exception? error)
    {
        var detail = string.IsNullOrEmpty(message) ? "unknown error" : message;
        if (_failure is { } previous && previous.Message == detail) return false;
        _failure = (detail, error);
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
        lock (_publishGate)
        {
            ResolverResult[] results;
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
                results = ResultsLocked();
            }

            try
            {
                foreach (var result in results) Invoke(listener, result);
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
    }

    private ResolverResult[] ResultsLocked()
    {
        var first = !_everPublished;
        _everPublished = true;
        if (_synchronized && _addresses.Count > 0)
        {
            Log.PublishedAddresses(_logger, _target, _addresses.Count);
            return [ResolverResult.ForResult([.. _addresses.Values], _serviceConfig, serviceConfigStatus: null)];
        }

        var status = UnavailableLocked();
        Log.PublishedFailure(_logger, _target, status.Detail);
        var failure = ResolverResult.ForFailure(status);

        // The channel picks its policy from the first result's service config; a failure carries none.
        return first && _serviceConfig is not null
            ? [ResolverResult.ForResult([], _serviceConfig, serviceConfigStatus: null), failure]
            : [failure];
    }

    private Status UnavailableLocked()
    {
        if (_synchronized)
        {
            var text = _statusFailing
                ? $"No endpoints known for {_subject}; Kubernetes discovery failing: {_statusMessage ?? "unknown error"}"
                : _statusMessage ?? $"No addresses for {_subject}: the set is empty.";
            if (_skippedEndpoints > 0)
            {
                text += $" ({_skippedEndpoints} endpoint{(_skippedEndpoints == 1 ? " was" : "s were")} skipped because the address builder failed for {(_skippedEndpoints == 1 ? "it" : "them")}.)";
            }

            return Unavailable(AddressSetUnavailableReason.NoEndpoints, text);
        }

        if (_failure is { } failure)
        {
            return Unavailable(AddressSetUnavailableReason.DiscoveryFailing, "Kubernetes discovery failing: " + failure.Message, failure.Error);
        }

        return _overdue
            ? Unavailable(AddressSetUnavailableReason.FirstSnapshotOverdue, $"No snapshot of the endpoints of {_subject} within {_firstSnapshotWait.TotalSeconds:0.###} s: discovery is still connecting.")
            : Unavailable(AddressSetUnavailableReason.WaitingForFirstSnapshot, $"Waiting for the first snapshot of the endpoints of {_subject}.");
    }

    private static Status Unavailable(AddressSetUnavailableReason reason, string detail, Exception? error = null) =>
        new(StatusCode.Unavailable, detail, new AddressSetUnavailableException(reason, detail, error));

    private void Invoke(Action<ResolverResult> listener, ResolverResult result)
    {
        try
        {
            listener(result);
        }
#pragma warning disable CA1031 // A throwing listener must not kill the scheduler's thread nor stop later publishes.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ListenerFailed(_logger, _target, ex);
        }
    }
}
