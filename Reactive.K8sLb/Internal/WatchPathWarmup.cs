using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Runs, once per process and off the critical path, the code that the first watch event takes and the initial sync
/// does not: the initial sync is a LIST (a <see cref="V1EndpointSliceList"/> response) and a <see cref="SliceEvent.Reset"/>,
/// while the first change after it is a line on the WATCH stream (KubernetesClient's watch enumerator, its response
/// handling, and the JSON contracts of <c>Watcher&lt;KubernetesObject&gt;.WatchEvent</c> and
/// <c>Watcher&lt;V1EndpointSlice&gt;.WatchEvent</c>, which it deserializes twice per line) followed by the tracker's
/// incremental upsert path. Left cold, JIT compilation and System.Text.Json contract building on that path made the first
/// change after startup tens of milliseconds later than every later one (event to subscriber: 56 to 155 ms against a
/// median under 1 ms on a loaded 2-core machine; the latency harness with <c>--modes 0 --no-warmup</c>). The warm-up reads one canned watch line through KubernetesClient's real watch call
/// with a handler that answers in memory (no request reaches the API server) and applies changes to a throwaway tracker.
/// It starts with the first discovery of the process, so it overlaps the LIST rather than the first change.
/// </summary>
internal static class WatchPathWarmup
{
    private static Task<WarmupResult>? _completion;

    /// <summary>When set, <see cref="Start"/> does nothing (the latency harness measures the cold path with it).</summary>
    internal static bool Disabled { get; set; }

    /// <summary>The warm-up of this process once it has been started; <see langword="null"/> before.</summary>
    internal static Task<WarmupResult>? Completion => Volatile.Read(ref _completion);

    /// <summary>
    /// Starts the warm-up on the thread pool unless it has started in this process already. Cheap and non-blocking: it
    /// is called when a discovery starts, so that it runs while the LIST is in flight, long before the first change.
    /// </summary>
    /// <param name="config">The discovery's configuration (the tracker's projection, the names in the canned slice).</param>
    public static void Start(DiscoveryConfig config)
    {
        if (Disabled || Volatile.Read(ref _completion) is not null) return;
        var task = new Task<Task<WarmupResult>>(() => RunAsync(config));
        if (Interlocked.CompareExchange(ref _completion, task.Unwrap(), null) is not null) return;
        // Not in the first subscriber's execution context: its activity and log scopes have nothing to do with this.
        using (ExecutionContext.SuppressFlow())
        {
            task.Start(TaskScheduler.Default);
        }
    }

    /// <summary>Runs the watch path once. Never throws: a warm-up that fails only leaves the path cold.</summary>
    internal static async Task<WarmupResult> RunAsync(DiscoveryConfig config)
    {
        var events = 0;
        var changes = 0;
        try
        {
            // Written by hand: serializing a slice would build the serializer's contracts too (tens of ms of work that
            // no watch needs).
            var sample = Sample(config);
            var line = Line(sample);
            using (var client = new Kubernetes(new KubernetesClientConfiguration { Host = "http://watch-warmup.invalid" }, new CannedWatchHandler(line)))
            {
                var watch = client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                    namespaceParameter: sample.Metadata?.NamespaceProperty ?? config.Namespace ?? "default",
                    allowWatchBookmarks: true,
                    labelSelector: $"kubernetes.io/service-name={config.ServiceName}",
                    resourceVersion: sample.Metadata?.ResourceVersion ?? "1",
                    timeoutSeconds: 1,
                    onError: _ => { });
                await foreach (var (_, slice) in watch.ConfigureAwait(false))
                {
                    if (slice is not null) events++;
                }
            }

            // The incremental path: the snapshot, then a slice losing and regaining an endpoint, then its deletion.
            var tracker = new EndpointSetTracker(config, NullLogger.Instance);
            tracker.Apply(SliceEvent.Reset([sample]));
            var endpoints = sample.Endpoints ?? [];
            var fewer = new V1EndpointSlice
            {
                AddressType = sample.AddressType,
                Metadata = sample.Metadata,
                Ports = sample.Ports,
                Endpoints = [.. endpoints.Skip(1)],
            };
            changes += tracker.Apply(SliceEvent.Upserted(fewer)).Count;
            changes += tracker.Apply(SliceEvent.Upserted(sample)).Count;
            changes += tracker.Apply(SliceEvent.Deleted(sample)).Count;
            return new WarmupResult(events, changes, null);
        }
#pragma warning disable CA1031 // A warm-up failure must never reach discovery.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return new WarmupResult(events, changes, e);
        }
    }

    private static V1EndpointSlice Sample(DiscoveryConfig config) => new()
    {
        AddressType = "IPv4",
        Metadata = new V1ObjectMeta
        {
            Name = config.ServiceName + "-warmup",
            NamespaceProperty = config.Namespace ?? "default",
            ResourceVersion = "1",
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = config.ServiceName },
        },
        Ports = [new Discoveryv1EndpointPort { Name = config.Port.Name, Port = config.Port.Number ?? 8080, Protocol = "TCP" }],
        Endpoints =
        [
            new V1Endpoint { Addresses = ["192.0.2.1"], Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false }, NodeName = "node-a", Zone = "zone-a" },
            new V1Endpoint { Addresses = ["192.0.2.2"], Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false }, NodeName = "node-b", Zone = "zone-b" },
        ],
    };

    /// <summary>The watch line the API server would send for <paramref name="slice"/> (the fields <see cref="Sample"/> sets).</summary>
    private static string Line(V1EndpointSlice slice)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "MODIFIED");
            json.WriteStartObject("object");
            json.WriteString("apiVersion", "discovery.k8s.io/v1");
            json.WriteString("kind", "EndpointSlice");
            json.WriteStartObject("metadata");
            json.WriteString("name", slice.Metadata.Name);
            json.WriteString("namespace", slice.Metadata.NamespaceProperty);
            json.WriteString("resourceVersion", slice.Metadata.ResourceVersion);
            json.WriteStartObject("labels");
            foreach (var (key, value) in slice.Metadata.Labels) json.WriteString(key, value);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteString("addressType", slice.AddressType);
            json.WriteStartArray("endpoints");
            foreach (var endpoint in slice.Endpoints)
            {
                json.WriteStartObject();
                json.WriteStartArray("addresses");
                foreach (var address in endpoint.Addresses) json.WriteStringValue(address);
                json.WriteEndArray();
                json.WriteStartObject("conditions");
                json.WriteBoolean("ready", endpoint.Conditions.Ready ?? true);
                json.WriteBoolean("serving", endpoint.Conditions.Serving ?? true);
                json.WriteBoolean("terminating", endpoint.Conditions.Terminating ?? false);
                json.WriteEndObject();
                json.WriteString("nodeName", endpoint.NodeName);
                json.WriteString("zone", endpoint.Zone);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("ports");
            foreach (var port in slice.Ports)
            {
                json.WriteStartObject();
                if (port.Name is not null) json.WriteString("name", port.Name);
                json.WriteNumber("port", port.Port ?? 0);
                json.WriteString("protocol", port.Protocol);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>What the warm-up did: watch events read through KubernetesClient, tracker changes, and a failure if any.</summary>
    internal sealed record WarmupResult(int WatchEvents, int TrackerChanges, Exception? Failure);

    /// <summary>Answers every request with one watch line, in memory: nothing is sent.</summary>
    private sealed class CannedWatchHandler(string line) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new StreamContent(new PendingReadStream(Encoding.UTF8.GetBytes(line + "\n")));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }

    /// <summary>
    /// A body whose reads complete asynchronously, like a socket's: the first line of a real watch is awaited, so the
    /// warm-up must take the pending-read paths (KubernetesClient attaches its cancellation with a continuation then).
    /// </summary>
    private sealed class PendingReadStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return Read(buffer.Span);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
