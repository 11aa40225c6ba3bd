using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

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
    private const string LoggerCategory = "Reactive.K8sLb.Resolver";

    public static readonly TimeSpan DefaultFirstSnapshotWait = TimeSpan.FromSeconds(10);

    private readonly object _gate = new();

    // Held while the listener runs; Dispose takes it too, so it cannot return with a publish in flight.
    private readonly object _publishGate = new();
    private readonly IScheduler _scheduler;
    private readonly ServiceConfig? _serviceConfig;
    private readonly ILoggerFactory _loggerFactory;

    // Replaced by a logger in the Service's scope once an update says which Service the addresses come from.
    private volatile ILogger _logger;
    private readonly string _target;
    private readonly TimeSpan _firstSnapshotWait;
    private readonly Func<ChangeSinkResolver, IDisposable>? _connect;

    private readonly ResolvedAddressSet _set;
    private Action<ResolverResult>? _listener;
    private IDisposable? _connection;
    private IDisposable? _firstSnapshotTimer;
    private ServiceIdentity? _identity;

    // The earliest watch event behind the changes applied since the last published address list (0: none).
    private long _pendingSince;
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
    /// <param name="identity">The Service the addresses come from, when known before any update (a <c>k8s:///</c>
    /// address); otherwise it is taken from the updates of the library's sources.</param>
    public ChangeSinkResolver(
        string target,
        IScheduler scheduler,
        ServiceConfig? serviceConfig,
        ILoggerFactory loggerFactory,
        Func<ChangeSinkResolver, IDisposable>? connect = null,
        string? subject = null,
        TimeSpan? firstSnapshotWait = null,
        ServiceIdentity? identity = null)
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
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger(LoggerCategory);
        _connect = connect;
        _firstSnapshotWait = firstSnapshotWait ?? DefaultFirstSnapshotWait;
        _set = new ResolvedAddressSet(subject ?? target, _firstSnapshotWait);
        _identity = identity;
    }

    /// <summary>Number of addresses in the current set (for tests and logs).</summary>
    internal int Count
    {
        get
        {
            lock (_gate) return _set.Count;
        }
    }

    /// <summary>A snapshot of the current address set (for tests).</summary>
    internal BalancerAddress[] Addresses
    {
        get
        {
            lock (_gate) return _set.Addresses;
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
            if (!_set.IsSynchronized) _firstSnapshotTimer = _scheduler.Schedule(_firstSnapshotWait, OnFirstSnapshotOverdue);
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
            if (_disposed) return;
            var wasSynchronized = _set.IsSynchronized;
            if (_set.ApplyPlain(changes)) MarkDirtyLocked();
            if (!wasSynchronized && _set.IsSynchronized) StopFirstSnapshotTimerLocked();
        }
    }

    /// <summary>Applies changes and the status after them, with no endpoint skipped.</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <param name="status">The status after the changes.</param>
    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryStatus status) => Apply(changes, new DiscoveryUpdate([], status), skippedEndpoints: 0);

    /// <inheritdoc />
    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryUpdate update, int skippedEndpoints)
    {
        var status = update.Status;
        lock (_gate)
        {
            if (_disposed) return;
            if (update.Source is { } source) IdentifyLocked(source);
            StampIdentityLocked(changes);
            var wasSynchronized = _set.IsSynchronized;
            var pendingBefore = _set.PendingChanges;
            var changed = _set.Apply(changes, status, skippedEndpoints, out var startedFailing);
            if (_set.PendingChanges != pendingBefore && update.EventTimestamp != 0 && (_pendingSince == 0 || update.EventTimestamp < _pendingSince))
            {
                _pendingSince = update.EventTimestamp;
            }

            if (startedFailing) Log.KeepingLastKnown(_logger, _target, _set.Count, "Kubernetes discovery failing: " + (status.Message ?? status.Error?.Message));
            if (!wasSynchronized && _set.IsSynchronized) StopFirstSnapshotTimerLocked();
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
            if (_set.IsSynchronized) Log.KeepingLastKnown(_logger, _target, _set.Count, "The address source failed: " + error.Message);
            else if (_set.Fail(error.Message, error)) MarkDirtyLocked();
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
                var last = ResolverResult.ForFailure(_set.Disposed());
                if (_identity is { } identity) last.Attributes.Set(ServiceIdentity.AttributeKey, identity);
                Invoke(listener, last);
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

    /// <summary>Remembers which Service the addresses come from (the source of the latest update), for the
    /// <see cref="ServiceIdentity"/> attribute of every result and the metric tags. One object per identity, not per publish.</summary>
    private void IdentifyLocked(DiscoveryInstance source)
    {
        var @namespace = source.Namespace;
        if (_identity is { } known && known.Service == source.Service && known.Namespace == @namespace) return;
        _identity = new ServiceIdentity(source.Service, @namespace);

        // A k8s:/// resolver's factory is already in the Service's scope; a BalancedChannel's learns it here.
        if (_loggerFactory is not ServiceScopedLoggerFactory)
        {
            _logger = new ServiceScopedLoggerFactory(_loggerFactory, new ServiceLogScope(source.Service, @namespace)).CreateLogger(LoggerCategory);
        }
    }

    /// <summary>
    /// Puts the <see cref="ServiceIdentity"/> on the addresses entering the set (not yet published, so no balancer reads
    /// them concurrently). The balancer takes it from there: grpc-dotnet hands a balancer none of a resolver result's
    /// attributes (its ConnectionManager builds every ChannelState with empty ones).
    /// </summary>
    private void StampIdentityLocked(IReadOnlyList<Change<BalancerAddress>> changes)
    {
        if (_identity is not { } identity) return;
        foreach (var change in changes)
        {
            if (change.Kind == ChangeKind.Remove) continue;
            if (!change.Item.Attributes.TryGetValue(ServiceIdentity.AttributeKey, out var stamped) || stamped != identity)
            {
                change.Item.Attributes.Set(ServiceIdentity.AttributeKey, identity);
            }
        }
    }

    /// <summary>The Service the addresses come from, once an update from one of the library's sources told it. Internal for testing.</summary>
    internal ServiceIdentity? Identity
    {
        get
        {
            lock (_gate) return _identity;
        }
    }

    private void OnFirstSnapshotOverdue()
    {
        lock (_gate)
        {
            if (!_disposed && _set.MarkFirstSnapshotOverdue()) MarkDirtyLocked();
        }
    }

    private void StopFirstSnapshotTimerLocked()
    {
        _firstSnapshotTimer?.Dispose();
        _firstSnapshotTimer = null;
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
            ServiceIdentity? identity;
            int pendingChanges;
            long pendingSince;
            lock (_gate)
            {
                listener = _listener;
                if (_disposed || listener is null || !_dirty)
                {
                    _publishScheduled = false;
                    return;
                }

                _dirty = false;
                pendingChanges = _set.PendingChanges;
                results = _set.Results(_serviceConfig);
                identity = _identity;
                pendingSince = 0;
                if (results[^1].Status.StatusCode == StatusCode.OK)
                {
                    pendingSince = _pendingSince;
                    _pendingSince = 0;
                }
            }

            if (identity is not null)
            {
                foreach (var result in results) result.Attributes.Set(ServiceIdentity.AttributeKey, identity);
            }

            try
            {
                if (results[^1].Status.StatusCode == StatusCode.OK && ResolverInstruments.Enabled)
                {
                    ResolverInstruments.RecordPublish(identity, pendingChanges, pendingSince);
                }

                if (results[^1].Status.StatusCode == StatusCode.OK) Log.PublishedAddresses(_logger, _target, results[^1].Addresses!.Count);
                else Log.PublishedFailure(_logger, _target, results[^1].Status.Detail);
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
