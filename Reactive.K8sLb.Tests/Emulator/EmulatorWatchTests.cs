using System.Collections.Concurrent;
using System.Globalization;
using k8s;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Emulator;

public sealed class EmulatorWatchTests : EmulatorFixture
{
    [Test]
    public async Task Watch_WithoutResourceVersion_StartsWithSyntheticAddedThenLiveEvents()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1));
        await using var watch = WatchRecorder.Start(Client, labelSelector: "kubernetes.io/service-name=api");
        await watch.UntilEventsAsync(1);

        service.SetReady(Ip(1), false);
        await watch.UntilEventsAsync(2);

        Assert.That(watch.Events.Select(e => e.Type), Is.EqualTo(new[] { WatchEventType.Added, WatchEventType.Modified }));
        Assert.That(watch.Events[1].Slice.Endpoints.Single().Conditions.Ready, Is.False);
        Assert.That(watch.Events[1].Slice.Metadata.ResourceVersion, Is.EqualTo(Emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task Watch_FromListResourceVersion_ReplaysOnlyNewerEvents()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1));
        using var list = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");
        service.AddPod(Ip(2));
        service.RemovePod(Ip(1));

        await using var watch = WatchRecorder.Start(Client, resourceVersion: list.Body.Metadata.ResourceVersion);
        await watch.UntilEventsAsync(2);

        Assert.That(watch.Events.Select(e => e.Type), Is.EqualTo(new[] { WatchEventType.Modified, WatchEventType.Modified }));
        Assert.That(watch.Events[1].Slice.Endpoints.Select(e => e.Addresses[0]), Is.EqualTo(new[] { Ip(2) }));
    }

    [Test]
    public async Task Watch_FromCompactedResourceVersion_ReportsExpired410ThroughOnError()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        var old = Emulator.CurrentResourceVersion;
        service.AddPod(Ip(1));
        Emulator.ExpireHistory();

        await using var watch = WatchRecorder.Start(Client, resourceVersion: old.ToString(CultureInfo.InvariantCulture));
        var ended = await watch.EndedWithAsync();

        Assert.That(ended, Is.Null);
        var error = (KubernetesException)watch.Errors.Single();
        Assert.That(error.Status.Code, Is.EqualTo(410));
        Assert.That(error.Status.Reason, Is.EqualTo("Expired"));
        Assert.That(error.Status.Message, Does.StartWith($"too old resource version: {old} ("));
        Assert.That(watch.Events, Is.Empty);
    }

    [Test]
    public async Task Watch_FromCurrentResourceVersionAfterCompaction_IsAccepted()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        Emulator.ExpireHistory();
        var current = Emulator.CurrentResourceVersion;

        await using var watch = WatchRecorder.Start(Client, resourceVersion: current.ToString(CultureInfo.InvariantCulture));
        await Emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);
        service.AddPod(Ip(1));
        await watch.UntilEventsAsync(1);

        Assert.That(watch.Events.Single().Type, Is.EqualTo(WatchEventType.Modified));
        Assert.That(watch.Errors, Is.Empty);
    }

    [Test]
    public async Task Watch_ExpireNextWatch_SendsOne410AndEnds()
    {
        Emulator.AddService("default", "api", Grpc);
        Emulator.ExpireNextWatch();

        await using var watch = WatchRecorder.Start(Client, resourceVersion: "1");
        var ended = await watch.EndedWithAsync();

        Assert.That(ended, Is.Null);
        Assert.That(((KubernetesException)watch.Errors.Single()).Status.Code, Is.EqualTo(410));
    }

    [Test]
    public async Task Watch_WithBookmarks_BookmarksCarryTheLatestResourceVersion()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        await using var watch = WatchRecorder.Start(Client, labelSelector: "kubernetes.io/service-name=api", bookmarks: true);
        await watch.UntilEventsAsync(1);

        service.AddPod(Ip(1));
        Emulator.PutSlice(EmulatorListTests.RawSlice("unrelated"));
        var expected = Emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture);
        await watch.UntilAsync(
            r => r.Events.Any(e => e.Type == WatchEventType.Bookmark && e.Slice.Metadata.ResourceVersion == expected),
            $"a bookmark at resourceVersion {expected}");

        var bookmark = watch.Events.First(e => e.Type == WatchEventType.Bookmark && e.Slice.Metadata.ResourceVersion == expected);
        Assert.That(bookmark.Slice.Metadata.Name, Is.Null);
        Assert.That(watch.Events.Count(e => e.Type != WatchEventType.Bookmark), Is.EqualTo(2));
    }

    [Test]
    public async Task Watch_TimeoutSeconds_EndsTheEnumerationNormally()
    {
        Emulator.AddService("default", "api", Grpc);

        await using var watch = WatchRecorder.Start(Client, timeoutSeconds: 1);
        var ended = await watch.EndedWithAsync();

        Assert.That(ended, Is.Null);
        Assert.That(watch.Events.Single().Type, Is.EqualTo(WatchEventType.Added));
        Assert.That(Emulator.OpenWatchCount, Is.Zero);
    }

    [Test]
    public async Task Watch_ObjectStopsMatchingSelector_IsSentAsDeleted()
    {
        Emulator.PutSlice(EmulatorListTests.RawSlice("s1", service: "api"));
        await using var watch = WatchRecorder.Start(Client, labelSelector: "kubernetes.io/service-name=api");
        await watch.UntilEventsAsync(1);

        Emulator.PutSlice(EmulatorListTests.RawSlice("s1", service: "web"));
        await watch.UntilEventsAsync(2);

        Assert.That(watch.Events[1].Type, Is.EqualTo(WatchEventType.Deleted));
        Assert.That(watch.Events[1].Slice.Metadata.Labels["kubernetes.io/service-name"], Is.EqualTo("api"));
        Assert.That(watch.Events[1].Slice.Metadata.ResourceVersion, Is.EqualTo(Emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task Watch_QuietService_SendsHeadersBeforeAnyEvent()
    {
        Emulator.AddService("default", "api", Grpc);
        var written = 0;
        Emulator.EventWritten += _ => Interlocked.Increment(ref written);
        using var http = new HttpClient { BaseAddress = Emulator.BaseUri };
        using var request = new HttpRequestMessage(
            HttpMethod.Get,
            $"/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=true&allowWatchBookmarks=false&resourceVersion={Emulator.CurrentResourceVersion}");

        var send = http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await Eventually.That(() => send.IsCompleted, "the watch response headers");
        using var response = await send;

        Assert.That(Volatile.Read(ref written), Is.Zero);
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Headers.TransferEncodingChunked, Is.True);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
    }

    [Test]
    public async Task Watch_EndedByClientDropOrExpiry_UnregistersItsWatcher()
    {
        Emulator.AddService("default", "api", Grpc);
        var old = Emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture);
        await using (var cancelled = WatchRecorder.Start(Client))
        {
            await cancelled.UntilEventsAsync(1);
        }

        await using (var dropped = WatchRecorder.Start(Client))
        {
            await dropped.UntilEventsAsync(1);
            Emulator.DropAllWatches();
            await dropped.EndedWithAsync();
        }

        Emulator.PutSlice(EmulatorListTests.RawSlice("newer"));
        Emulator.ExpireHistory();
        await using (var expired = WatchRecorder.Start(Client, resourceVersion: old))
        {
            await expired.EndedWithAsync();
        }

        await Emulator.WaitForOpenWatchesAsync(0, Eventually.DefaultTimeout);
        Assert.That(Emulator.RegisteredWatcherCount, Is.Zero);
    }

    [Test]
    public async Task Watch_CancelledByClient_OpenWatchCountReturnsToZero()
    {
        // With bookmarks the server writes now and then, as the API server does: a write to a closed connection is how
        // a server learns for sure that an HTTP/1.1 client went away (a quiet response may not notice the close).
        await using var watch = WatchRecorder.Start(Client, bookmarks: true);
        await Emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);

        watch.Cancel();

        // KubernetesClient reads a watch body with a token it has already disposed, so cancelling never reaches the
        // socket: the connection closes only when SocketsHttpHandler gives up draining it, which under load can take
        // longer than the wait (found in issue 12). Disposing the client closes it now; the emulator must then count
        // the watch as gone.
        Client.Dispose();

        await Emulator.WaitForOpenWatchesAsync(0, Eventually.DefaultTimeout);
        Assert.That(await watch.EndedWithAsync(), Is.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task EventWritten_RaisedAfterEachFlushedLine()
    {
        var written = new ConcurrentQueue<WatchEventWritten>();
        Emulator.EventWritten += written.Enqueue;
        var service = Emulator.AddService("default", "api", Grpc);
        await using var watch = WatchRecorder.Start(Client);
        await watch.UntilEventsAsync(1);

        service.AddPod(Ip(1));
        await watch.UntilEventsAsync(2);

        var events = written.ToArray();
        Assert.That(events.Select(e => e.EventType), Is.EqualTo(new[] { WatchEventType.Added, WatchEventType.Modified }));
        Assert.That(events.Select(e => e.SliceName), Is.All.EqualTo(service.SliceNames.Single()));
        Assert.That(events[1].ResourceVersion, Is.EqualTo(Emulator.CurrentResourceVersion));
        Assert.That(events[0].WatcherId, Is.EqualTo(events[1].WatcherId));
        Assert.That(events[1].Timestamp, Is.GreaterThanOrEqualTo(events[0].Timestamp));
    }

    [Test]
    public async Task WaitForOpenWatches_NotReached_ThrowsTimeoutNamingCounts()
    {
        var e = await Assert.ThrowsAsync<TimeoutException>(() => Emulator.WaitForOpenWatchesAsync(1, TimeSpan.FromMilliseconds(50)));

        Assert.That(e!.Message, Does.Contain("Expected 1").And.Contain("0 are open"));
    }

    [Test]
    public async Task Requests_RecordListAndWatch()
    {
        using (await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default", labelSelector: "a=b"))
        {
        }

        await using var watch = WatchRecorder.Start(Client, resourceVersion: "0");
        await Emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);

        var requests = Emulator.Requests;
        Assert.That(requests.Select(r => r.Kind), Is.EqualTo(new[] { RequestKind.List, RequestKind.Watch }));
        Assert.That(requests[0].Query["labelSelector"], Is.EqualTo("a=b"));
        Assert.That(requests[0].Path, Is.EqualTo("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"));
        Assert.That(requests[1].StatusCode, Is.EqualTo(200));
    }

    [Test]
    public async Task Watch_FromResourceVersionBeyondHistoryLimit_ReportsExpired()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { HistoryLimit = 2 });
        using var client = emulator.CreateClient();
        var service = emulator.AddService("default", "api", Grpc);
        var old = emulator.CurrentResourceVersion;
        service.AddPod(Ip(1));
        service.AddPod(Ip(2));
        service.AddPod(Ip(3));

        await using var tooOld = WatchRecorder.Start(client, resourceVersion: old.ToString(CultureInfo.InvariantCulture));
        await using var retained = WatchRecorder.Start(client, resourceVersion: (old + 1).ToString(CultureInfo.InvariantCulture));
        await tooOld.EndedWithAsync();
        await retained.UntilEventsAsync(2);

        Assert.That(((KubernetesException)tooOld.Errors.Single()).Status.Code, Is.EqualTo(410));
        Assert.That(retained.Errors, Is.Empty);
    }

    [Test]
    public async Task Watch_SendInitialEvents_EndsInitialStateWithAnnotatedBookmark()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1));

        await using var watch = WatchRecorder.Start(Client, bookmarks: true, sendInitialEvents: true);
        await watch.UntilEventsAsync(2);

        Assert.That(watch.Events[0].Type, Is.EqualTo(WatchEventType.Added));
        Assert.That(watch.Events[1].Type, Is.EqualTo(WatchEventType.Bookmark));
        Assert.That(watch.Events[1].Slice.Metadata.Annotations["k8s.io/initial-events-end"], Is.EqualTo("true"));
        Assert.That(watch.Events[1].Slice.Metadata.ResourceVersion, Is.EqualTo(Emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture)));
    }
}
