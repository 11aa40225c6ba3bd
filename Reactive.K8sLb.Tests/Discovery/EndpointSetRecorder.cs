using System.Net;
using Reactive.K8sLb;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// Subscribes to a discovery stream, applies its changes to a set while validating the protocol (no Insert of a
/// present item, no Remove of an absent one), records every change and status, and lets a test wait for a condition
/// on that state without sleeping: waits are re-checked on every update (see <see cref="Eventually"/>).
/// </summary>
internal sealed class EndpointSetRecorder : IDisposable
{
    private readonly object _gate = new();
    private readonly HashSet<EndPoint> _set = [];
    private readonly List<Change<EndPoint>> _changes = [];
    private readonly List<DiscoveryStatus> _statuses = [];
    private readonly List<string> _violations = [];
    private readonly ChangeSignal _updated = new();
    private readonly IDisposable _subscription;

    public EndpointSetRecorder(IDiscoveryObservable source)
    {
        _subscription = source.Updates.Subscribe(OnUpdate, error => { lock (_gate) _violations.Add("stream failed: " + error); });
    }

    public int UpdateCount { get; private set; }

    public IReadOnlyList<Change<EndPoint>> Changes { get { lock (_gate) return _changes.ToList(); } }

    public DiscoveryStatus? Status { get { lock (_gate) return _statuses.LastOrDefault(); } }

    public IReadOnlyList<DiscoveryStatus> Statuses { get { lock (_gate) return _statuses.ToList(); } }

    public IReadOnlyList<string> Violations { get { lock (_gate) return _violations.ToList(); } }

    public ISet<string> Addresses { get { lock (_gate) return _set.Select(Format).ToHashSet(); } }

    public static string Format(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString()!,
    };

    public Task WaitForAddressesAsync(IEnumerable<string> expected, TimeSpan? timeout = null)
    {
        var wanted = expected.ToHashSet();
        return WaitForAsync(() => _set.Count == wanted.Count && _set.Select(Format).All(wanted.Contains), timeout, () => $"addresses [{string.Join(", ", wanted.Order())}], have [{string.Join(", ", Addresses.Order())}]");
    }

    public Task WaitForStatusAsync(Func<DiscoveryStatus, bool> condition, TimeSpan? timeout = null, string what = "status") =>
        WaitForAsync(() => _statuses.Count > 0 && condition(_statuses[^1]), timeout, () => $"{what}; statuses: {string.Join(" | ", Statuses)}");

    /// <summary>
    /// Waits until <paramref name="condition"/> (evaluated under the recorder's lock) holds: re-checked on every update,
    /// and every few milliseconds for conditions on other state (such as the emulator's request log).
    /// </summary>
    public Task WaitForAsync(Func<bool> condition, TimeSpan? timeout, Func<string> describe) =>
        Eventually.That(
            () =>
            {
                lock (_gate)
                {
                    return condition();
                }
            },
            _updated,
            describe,
            timeout);

    public void Dispose() => _subscription.Dispose();

    private void OnUpdate(DiscoveryUpdate update)
    {
        lock (_gate)
        {
            UpdateCount++;
            _statuses.Add(update.Status);
            foreach (var change in update.Changes)
            {
                _changes.Add(change);
                var applied = change.Kind == ChangeKind.Insert ? _set.Add(change.Item) : _set.Remove(change.Item);
                if (!applied) _violations.Add($"{change} does not apply to the current set");
            }
        }

        _updated.Pulse();
    }
}
