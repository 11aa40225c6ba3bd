using System.Diagnostics;
using System.Net;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;
using Reactive.K8sLb.Tests.Telemetry;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// Streaming lists (Kubernetes' WatchList): one WATCH with <c>sendInitialEvents=true</c> replaces LIST + WATCH where the
/// API server supports it, and the fallback to LIST + WATCH where it does not (rejected, or ignored as a server older
/// than the feature does), remembered for the client. Real KubernetesClient against the emulator.
/// </summary>
[Parallelizable(ParallelScope.Children)]
public sealed class StreamingListTests
{
    private const string Ns = "demo";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static int _services;

    [Test]
    public async Task Supported_OneStreamingListSyncs_AndTheSameRequestGoesOnAsTheWatch()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { MaxEndpointsPerSlice = 2 });
        var (service, name) = AddService(emulator);
        service.ScaleTo(5, i => Ip(i + 1));
        using var recorder = Record(emulator, name);

        await recorder.WaitForAddressesAsync(Addresses(1, 5), Timeout);
        await recorder.WaitForStatusAsync(s => s.IsSynchronized && s.Health == DiscoveryHealth.Healthy, Timeout, "synchronized and healthy");
        service.AddPod(Ip(6));
        await recorder.WaitForAddressesAsync(Addresses(1, 6), Timeout);

        var requests = emulator.Requests;
        Assert.That(requests.Count(r => r.Kind == RequestKind.List), Is.Zero, "no LIST");
        Assert.That(requests.Count(r => r.Kind == RequestKind.Watch), Is.EqualTo(1), "the streaming list carried the later change too");
        var streaming = requests.Single(r => r.IsStreamingList);
        Assert.That(streaming.StatusCode, Is.EqualTo(200));
        Assert.That(streaming.Query, Does.ContainKey("resourceVersionMatch").WithValue("NotOlderThan"));
        Assert.That(streaming.Query, Does.ContainKey("allowWatchBookmarks").WithValue("true"));
        Assert.That(streaming.Query.GetValueOrDefault("resourceVersion"), Is.Null.Or.Empty, "the newest state: a consistent read");
        Assert.That(recorder.Changes.Where(c => c.Kind == ChangeKind.Remove), Is.Empty);
        Assert.That(recorder.Violations, Is.Empty);
    }

    [Test]
    public async Task Supported_SnapshotIsDeclaredOnTheInitialEventsEndBookmark_NotBefore()
    {
        // Five slices of one endpoint each: a snapshot declared before the bookmark would have fewer than five.
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { MaxEndpointsPerSlice = 1 });
        var (service, name) = AddService(emulator);
        service.ScaleTo(5, i => Ip(i + 1));
        using var recorder = Record(emulator, name);

        await recorder.WaitForAddressesAsync(Addresses(1, 5), Timeout);

        var firstSynchronized = recorder.Statuses.TakeWhile(s => !s.IsSynchronized).Count();
        Assert.That(firstSynchronized, Is.LessThan(recorder.Statuses.Count), "synchronized once");
        Assert.That(recorder.Changes, Has.Count.EqualTo(5).And.All.Property(nameof(Change<EndPoint>.Kind)).EqualTo(ChangeKind.Insert));
        Assert.That(recorder.UpdateCount, Is.LessThanOrEqualTo(2), "the five slices arrived as one snapshot, not one update each");
    }

    [Test]
    public async Task Supported_WatchExpiresLater_RelistIsOneStreamingList_AndReconciles()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var (service, name) = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var instruments = new InstrumentRecorder();
        using var recorder = Record(emulator, name);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        emulator.ExpireNextWatch();
        emulator.DropAllWatches();
        service.RemovePod(Ip(1));

        await recorder.WaitForAddressesAsync([Addr(2), Addr(3)], Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        var requests = emulator.Requests;
        Assert.That(requests.Count(r => r.Kind == RequestKind.List), Is.Zero, "no LIST");
        Assert.That(requests.Count(r => r.IsStreamingList), Is.EqualTo(2), "the first, and one relist after the 410");
        Assert.That(instruments.Sum("k8slb.watch.relists", name, (WatchInstruments.RelistReasonTag, WatchInstruments.GoneReason)), Is.EqualTo(1), "one relist, counted once");
        Assert.That(instruments.Sum("k8slb.watch.relists", name), Is.EqualTo(1));
        Assert.That(instruments.Sum("k8slb.api.requests", name, ("k8slb.api.verb", "list")), Is.Zero);
        Assert.That(recorder.Changes.Where(c => c.Kind == ChangeKind.Remove).Select(c => EndpointSetRecorder.Format(c.Item)), Is.EqualTo(new[] { Addr(1) }), "only the deleted pod was removed");
        Assert.That(recorder.Violations, Is.Empty);
    }

    [Test]
    public async Task ExpiredDuringTheInitialEvents_ThePartialStateIsDropped_AndTheNextStreamingListCompletesIt()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { MaxEndpointsPerSlice = 1 });
        var (service, name) = AddService(emulator);
        service.ScaleTo(4, i => Ip(i + 1));
        emulator.ExpireNextStreamingList(afterEvents: 2);
        var logs = new CapturingLoggerFactory();
        using var recorder = Record(emulator, name, logs);

        await recorder.WaitForAddressesAsync(Addresses(1, 4), Timeout);

        var requests = emulator.Requests;
        Assert.That(requests.Count(r => r.IsStreamingList), Is.EqualTo(2), "the expired one and the one that completed");
        Assert.That(requests.Count(r => r.Kind == RequestKind.List), Is.Zero, "a 410 is not a sign of an old server: no fallback");
        Assert.That(recorder.Changes, Has.Count.EqualTo(4).And.All.Property(nameof(Change<EndPoint>.Kind)).EqualTo(ChangeKind.Insert), "no partial snapshot was published");
        Assert.That(recorder.Statuses.Where(s => s.IsSynchronized), Is.Not.Empty);
        Assert.That(logs.Entries.Count(e => e.EventId.Id == 212), Is.EqualTo(1), "the expiry before the snapshot is logged");
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 211), Is.Empty, "and is not taken for lack of support");
    }

    [Test]
    public async Task Rejected_FallsBackToListAndWatchAtOnce_AndRemembersItForTheRelist()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { StreamingLists = StreamingListSupport.Rejected });
        var (service, name) = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();
        using var recorder = Record(emulator, name, logs);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        var statusesBeforeTheDrop = recorder.Statuses;

        emulator.ExpireNextWatch();
        emulator.DropAllWatches();
        service.RemovePod(Ip(1));
        await recorder.WaitForAddressesAsync([Addr(2), Addr(3)], Timeout);

        var requests = emulator.Requests;
        var streaming = requests.Single(r => r.IsStreamingList);
        Assert.That(streaming.StatusCode, Is.EqualTo(422), "the server's answer: sendInitialEvents is forbidden");
        Assert.That(requests.Count(r => r.Kind == RequestKind.List), Is.EqualTo(2), "the fallback LIST, and the relist after the 410 without trying again");
        Assert.That(requests.SkipWhile(r => !r.IsStreamingList).Skip(1).First().Kind, Is.EqualTo(RequestKind.List), "the LIST follows at once");
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 211).Select(e => e.Message).Single(), Does.Contain("422").And.Contain("LIST + WATCH"));
        Assert.That(statusesBeforeTheDrop.Where(s => s.Health == DiscoveryHealth.Failing), Is.Empty, "a rejected streaming list is not a discovery failure");
    }

    [Test]
    public async Task Ignored_APlainBookmarkFirst_FallsBackToListAndWatch()
    {
        // A server older than the feature ignores sendInitialEvents: ADDED events, then plain bookmarks, never the end.
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions
        {
            StreamingLists = StreamingListSupport.Ignored,
            BookmarkInterval = TimeSpan.FromMilliseconds(100),
        });
        var (service, name) = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();
        using var recorder = Record(emulator, name, logs);

        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        await recorder.WaitForStatusAsync(s => s.IsSynchronized, Timeout, "synchronized");

        var requests = emulator.Requests;
        Assert.That(requests.Count(r => r.IsStreamingList), Is.EqualTo(1));
        Assert.That(requests.Count(r => r.Kind == RequestKind.List), Is.EqualTo(1));
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 211).Select(e => e.Message).Single(), Does.Contain("bookmark without the k8s.io/initial-events-end annotation"));
    }

    [Test]
    public async Task Ignored_WithoutAnyBookmark_FallsBackOnceAfterTheSilence_AndIsRememberedTheSecondTime()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions
        {
            StreamingLists = StreamingListSupport.Ignored,
            BookmarkInterval = TimeSpan.FromHours(1),
        });
        var (service, name) = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();
        var config = Config(emulator, name, logs);
        config.InitialEventsTimeout = TimeSpan.FromMilliseconds(300);
        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(config));
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List), Is.EqualTo(1));
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 213).Select(e => e.Message).Single(), Does.Contain("no bookmark annotated k8s.io/initial-events-end"));
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 211), Is.Empty, "silence once is not a verdict");

        // The relist after a 410 tries streaming again, meets the same silence, and now remembers it.
        emulator.ExpireNextWatch();
        emulator.DropAllWatches();
        service.RemovePod(Ip(1));
        await recorder.WaitForAddressesAsync([Addr(2)], Timeout);
        Assert.That(emulator.Requests.Count(r => r.IsStreamingList), Is.EqualTo(2));
        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List), Is.EqualTo(2));
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 211).Select(e => e.Message).Single(), Does.Contain("the second time in a row"));
    }

    [Test]
    public async Task RefusedBeforeTheSnapshot_OneListForThisAttempt_StreamingAgainLater()
    {
        // A Role that allows list but not watch, say: the streaming list is refused, one LIST still gets the endpoints.
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var (service, name) = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();
        var forbidden = emulator.FailRequests(403, "endpointslices.discovery.k8s.io is forbidden: cannot watch", count: 1);
        using var recorder = Record(emulator, name, logs);
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        forbidden.Dispose();

        emulator.ExpireNextWatch();
        emulator.DropAllWatches();
        service.RemovePod(Ip(1));
        await recorder.WaitForAddressesAsync([Addr(2)], Timeout);

        var requests = emulator.Requests;
        Assert.That(requests.First(r => r.IsStreamingList).StatusCode, Is.EqualTo(403));
        Assert.That(requests.Count(r => r.Kind == RequestKind.List), Is.EqualTo(1), "one LIST for the refused attempt");
        Assert.That(requests.Count(r => r.IsStreamingList), Is.EqualTo(2), "the relist streams again: nothing was remembered");
        Assert.That(logs.Entries.Where(e => e.EventId.Id == 211), Is.Empty);
        Assert.That(logs.Entries.Count(e => e.EventId.Id == 213), Is.EqualTo(1));
    }

    [Test]
    public async Task EndBookmarkOnTheServersTick_ChangesMeanwhileAreInTheSnapshot_NothingIsPublishedBeforeIt()
    {
        // kube-apiserver sends the initial-events-end bookmark on its bookmark tick; changes in between come first.
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions
        {
            MaxEndpointsPerSlice = 1,
            InitialEventsEndDelay = TimeSpan.FromMilliseconds(700),
        });
        var (service, name) = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        var added = 0;
        emulator.EventWritten += e =>
        {
            if (e.EventType == k8s.WatchEventType.Added) Interlocked.Increment(ref added);
        };
        using var recorder = Record(emulator, name);
        await Eventually.That(() => Volatile.Read(ref added) == 3, Timeout, "the three initial events are out");
        service.RemovePod(Ip(1));
        service.AddPod(Ip(4));

        await recorder.WaitForAddressesAsync([Addr(2), Addr(3), Addr(4)], Timeout);

        Assert.That(recorder.Changes.Where(c => c.Kind == ChangeKind.Remove), Is.Empty, "the deleted pod was never published");
        Assert.That(recorder.Changes.Select(c => EndpointSetRecorder.Format(c.Item)), Is.EquivalentTo(new[] { Addr(2), Addr(3), Addr(4) }));
        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List), Is.Zero);
        Assert.That(recorder.Violations, Is.Empty);
    }

    [Test]
    public async Task EmptyService_StreamEndsRightAfterItsBookmark_ResumesWithoutReportingFailure()
    {
        // A server may close a watch right after the initial-events-end bookmark (a draining watch cache).
        const string end = """{"type":"BOOKMARK","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}""";
        await using var server = ScriptedApiServer.Scripted(request => request switch
        {
            { Watch: true, Number: 1 } => new ScriptedReply(ScriptedApiServer.WatchReply(keepOpen: false, end).Text + "0\r\n\r\n"),
            { Watch: true } => ScriptedApiServer.WatchReply(keepOpen: true, ScriptedApiServer.Bookmark("9")),
            _ => ScriptedApiServer.ListReply(),
        });
        var config = new DiscoveryConfig("greeter", 8080) { Namespace = Ns, ClientConfiguration = server.ClientConfiguration, Debounce = TimeSpan.Zero };
        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(config));

        await recorder.WaitForAsync(() => server.Watches >= 2, Timeout, () => "the watch resumed");
        await recorder.WaitForStatusAsync(s => s.IsSynchronized, Timeout, "synchronized");

        Assert.That(recorder.Statuses.Where(s => s.Health == DiscoveryHealth.Failing), Is.Empty);
        Assert.That(server.Lists, Is.Zero);
    }

    [Test]
    public async Task OptedOut_ListsAndWatches()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var (service, name) = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        var config = Config(emulator, name);
        config.StreamingLists = false;
        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(config));

        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        Assert.That(emulator.Requests.Count(r => r.IsStreamingList), Is.Zero);
        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List), Is.EqualTo(1));
    }

    [Test]
    public async Task StreamingList_IsAWatchActivityTaggedAsSuch_WithTheInitialEventsEnd()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { MaxEndpointsPerSlice = 1 });
        var (service, name) = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var activities = new ActivityRecorder();
        using var recorder = Record(emulator, name);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);

        var watch = activities.Started(WatchActivities.WatchName, name).Single();
        Assert.That(watch.GetTagItem(WatchActivities.SendInitialEventsTag), Is.EqualTo(true));
        Assert.That(watch.GetTagItem(WatchActivities.ListReasonTag), Is.EqualTo(WatchActivities.InitialReason));
        await Eventually.That(() => watch.Events.Any(e => e.Name == WatchActivities.InitialEventsEndEvent), Timeout, "the initial-events-end event");
        var end = watch.Events.First(e => e.Name == WatchActivities.InitialEventsEndEvent);
        Assert.That(end.Tags.First(t => t.Key == WatchActivities.ItemsTag).Value, Is.EqualTo(3));
        Assert.That(activities.Started(WatchActivities.ListName, name), Is.Empty, "no LIST activity");
    }

    private static (EmulatedService Service, string Name) AddService(KubernetesApiEmulator emulator)
    {
        var name = "stream" + Interlocked.Increment(ref _services);
        return (emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 8080)), name);
    }

    private static DiscoveryConfig Config(KubernetesApiEmulator emulator, string name, CapturingLoggerFactory? logs = null) => new(name, 8080)
    {
        Namespace = Ns,
        ClientConfiguration = emulator.ClientConfiguration,
        Debounce = TimeSpan.Zero,
        Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
        LoggerFactory = logs,
    };

    private static EndpointSetRecorder Record(KubernetesApiEmulator emulator, string name, CapturingLoggerFactory? logs = null) =>
        new(KubernetesDiscovery.Observe(Config(emulator, name, logs)));

    private static string Ip(int i) => $"10.0.0.{i}";

    private static string Addr(int i) => $"{Ip(i)}:8080";

    private static IEnumerable<string> Addresses(int from, int to) => Enumerable.Range(from, to - from + 1).Select(Addr);
}
