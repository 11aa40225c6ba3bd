using k8s;
using k8s.Models;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Emulator;

/// <summary>Runs one real KubernetesClient watch in the background and records events, onError calls and the outcome.</summary>
internal sealed class WatchRecorder : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<(WatchEventType Type, V1EndpointSlice Slice)> _events = [];
    private readonly List<Exception> _errors = [];
    private readonly CancellationTokenSource _cts = new();
    private readonly ChangeSignal _signal = new();

    private WatchRecorder(IKubernetes client, string ns, string? labelSelector, string? resourceVersion, bool? bookmarks, int? timeoutSeconds, bool? sendInitialEvents)
    {
        Completion = RunAsync(client, ns, labelSelector, resourceVersion, bookmarks, timeoutSeconds, sendInitialEvents);
    }

    public Task Completion { get; }

    public IReadOnlyList<(WatchEventType Type, V1EndpointSlice Slice)> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<Exception> Errors
    {
        get
        {
            lock (_gate)
            {
                return [.. _errors];
            }
        }
    }

    public static WatchRecorder Start(IKubernetes client, string ns = "default", string? labelSelector = null, string? resourceVersion = null, bool? bookmarks = null, int? timeoutSeconds = null, bool? sendInitialEvents = null) =>
        new(client, ns, labelSelector, resourceVersion, bookmarks, timeoutSeconds, sendInitialEvents);

    public Task UntilAsync(Func<WatchRecorder, bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.That(() => condition(this), _signal, what, timeout);

    public Task UntilEventsAsync(int count) => UntilAsync(r => r.Events.Count >= count, $"{count} watch events");

    public async Task<Exception?> EndedWithAsync(TimeSpan? timeout = null)
    {
        await Eventually.That(() => Completion.IsCompleted, _signal, "the watch to end", timeout);
        try
        {
            await Completion;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    public void Cancel() => _cts.Cancel();

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        try
        {
            await Completion;
        }
        catch (Exception)
        {
            // Outcome already asserted (or irrelevant) by the test.
        }

        _cts.Dispose();
    }

    private async Task RunAsync(IKubernetes client, string ns, string? labelSelector, string? resourceVersion, bool? bookmarks, int? timeoutSeconds, bool? sendInitialEvents)
    {
        await Task.Yield();
        try
        {
            await foreach (var (type, slice) in client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                ns,
                allowWatchBookmarks: bookmarks,
                labelSelector: labelSelector,
                resourceVersion: resourceVersion,
                resourceVersionMatch: sendInitialEvents == true ? "NotOlderThan" : null,
                sendInitialEvents: sendInitialEvents,
                timeoutSeconds: timeoutSeconds,
                onError: e =>
                {
                    lock (_gate)
                    {
                        _errors.Add(e);
                    }

                    _signal.Pulse();
                },
                cancellationToken: _cts.Token))
            {
                lock (_gate)
                {
                    _events.Add((type, slice));
                }

                _signal.Pulse();
            }
        }
        finally
        {
            _signal.Pulse();
        }
    }
}
