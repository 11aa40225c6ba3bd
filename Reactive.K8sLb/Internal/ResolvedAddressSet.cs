using System.Net;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The resolver's state without any threading or scheduling: the current address set (keyed by
/// <see cref="DnsEndPoint"/>, which is how the channel matches subchannels), whether it is synchronized, and why it
/// may be unusable. It decides what the channel must be told (<see cref="Results"/>); <see cref="ChangeSinkResolver"/>
/// decides when. Every mutator returns whether that answer changed. Not thread-safe: the resolver calls it under its lock.
/// </summary>
internal sealed class ResolvedAddressSet(string subject, TimeSpan firstSnapshotWait)
{
    private readonly Dictionary<DnsEndPoint, BalancerAddress> _addresses = [];
    private bool _overdue;
    private (string Message, Exception? Error)? _failure;
    private string? _statusMessage;
    private bool _statusFailing;
    private int _skippedEndpoints;
    private bool _everPublished;

    public int Count => _addresses.Count;

    /// <summary>A snapshot of the current addresses.</summary>
    public BalancerAddress[] Addresses => [.. _addresses.Values];

    public bool IsSynchronized { get; private set; }

    /// <summary>Applies a plain change stream's changes: the first change counts as synchronisation.</summary>
    public bool ApplyPlain(IReadOnlyList<Change<BalancerAddress>> changes) =>
        changes.Count > 0 && (ApplyChanges(changes) > 0 | Synchronize());

    /// <summary>Changes to the set (inserts, removes, replaced addresses) since <see cref="Results"/> last returned
    /// an address list; for the resolver's metrics.</summary>
    public int PendingChanges { get; private set; }

    /// <summary>Applies changes and the status after them.</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <param name="status">The status after them.</param>
    /// <param name="skippedEndpoints">Endpoints left out because the address builder failed for them.</param>
    /// <param name="startedFailingWhileSynchronized">Whether a new failure arrived while the last known set stays in force (worth a log line).</param>
    public bool Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryStatus status, int skippedEndpoints, out bool startedFailingWhileSynchronized)
    {
        var changed = ApplyChanges(changes) > 0;
        if (status.IsSynchronized) changed |= Synchronize();

        var failing = status.Health == DiscoveryHealth.Failing;
        startedFailingWhileSynchronized = IsSynchronized && failing && (!_statusFailing || _statusMessage != status.Message);
        if (IsSynchronized)
        {
            // The texts of the empty set depend on these; a non-empty set does not.
            var textChanged = _statusMessage != status.Message || _statusFailing != failing || _skippedEndpoints != skippedEndpoints;
            changed |= textChanged && _addresses.Count == 0;
        }
        else if (failing)
        {
            changed |= Fail(status.Message ?? status.Error?.Message, status.Error);
        }

        _statusMessage = status.Message;
        _statusFailing = failing;
        _skippedEndpoints = skippedEndpoints;
        return changed;
    }

    /// <summary>The source failed: a failure to report while never synchronized (after that the last set stays).</summary>
    public bool Fail(string? message, Exception? error)
    {
        if (IsSynchronized) return false;
        var detail = string.IsNullOrEmpty(message) ? "unknown error" : message;
        if (_failure is { } previous && previous.Message == detail) return false;
        _failure = (detail, error);
        return true;
    }

    /// <summary>The wait for the first snapshot is over. A failure, when there is one, already says why.</summary>
    public bool MarkFirstSnapshotOverdue()
    {
        if (IsSynchronized || _failure is not null || _overdue) return false;
        _overdue = true;
        return true;
    }

    /// <summary>What to tell the channel now, in order.</summary>
    /// <param name="serviceConfig">The service config reported with an address list, or <see langword="null"/>.</param>
    public ResolverResult[] Results(ServiceConfig? serviceConfig)
    {
        var first = !_everPublished;
        _everPublished = true;
        if (IsSynchronized && _addresses.Count > 0)
        {
            PendingChanges = 0;
            return [ResolverResult.ForResult([.. _addresses.Values], serviceConfig, serviceConfigStatus: null)];
        }

        var failure = ResolverResult.ForFailure(Unavailable());

        // The channel picks its policy from the first result's service config; a failure carries none.
        return first && serviceConfig is not null
            ? [ResolverResult.ForResult([], serviceConfig, serviceConfigStatus: null), failure]
            : [failure];
    }

    /// <summary>The last result, when the resolver is disposed.</summary>
    public Status Disposed() => Status(AddressSetUnavailableReason.Disposed, $"The channel for {subject} was disposed.");

    private Status Unavailable()
    {
        if (IsSynchronized)
        {
            var text = _statusFailing
                ? $"No endpoints known for {subject}; Kubernetes discovery failing: {_statusMessage ?? "unknown error"}"
                : _statusMessage ?? $"No addresses for {subject}: the set is empty.";
            if (_skippedEndpoints > 0)
            {
                text += $" ({_skippedEndpoints} endpoint{(_skippedEndpoints == 1 ? " was" : "s were")} skipped because the address builder failed for {(_skippedEndpoints == 1 ? "it" : "them")}.)";
            }

            return Status(AddressSetUnavailableReason.NoEndpoints, text);
        }

        if (_failure is { } failure)
        {
            return Status(AddressSetUnavailableReason.DiscoveryFailing, "Kubernetes discovery failing: " + failure.Message, failure.Error);
        }

        return _overdue
            ? Status(AddressSetUnavailableReason.FirstSnapshotOverdue, $"No snapshot of the endpoints of {subject} within {firstSnapshotWait.TotalSeconds:0.###} s: discovery is still connecting.")
            : Status(AddressSetUnavailableReason.WaitingForFirstSnapshot, $"Waiting for the first snapshot of the endpoints of {subject}.");
    }

    private bool Synchronize()
    {
        if (IsSynchronized) return false;
        IsSynchronized = true;
        _failure = null;
        return true;
    }

    /// <summary>Applies the changes; returns how many changed the set.</summary>
    private int ApplyChanges(IReadOnlyList<Change<BalancerAddress>> changes)
    {
        foreach (var change in changes)
        {
            // Validate the whole batch first: a bad change must not leave half a batch applied.
            if (change.Item is null) throw new ArgumentException("A change's address must not be null.", nameof(changes));
        }

        var changed = 0;
        foreach (var change in changes)
        {
            var address = change.Item;
            var key = address.EndPoint;
            if (change.Kind != ChangeKind.Remove)
            {
                if (!_addresses.TryGetValue(key, out var existing) || !BalancerAddressComparer.SameAttributes(existing, address))
                {
                    _addresses[key] = address;
                    changed++;
                }
            }
            else if (_addresses.Remove(key))
            {
                changed++;
            }
        }

        PendingChanges += changed;
        return changed;
    }

    private static Status Status(AddressSetUnavailableReason reason, string detail, Exception? error = null) =>
        new(StatusCode.Unavailable, detail, new AddressSetUnavailableException(reason, detail, error));
}
