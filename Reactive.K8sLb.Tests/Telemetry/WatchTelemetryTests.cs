using System.Diagnostics;
using System.Globalization;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Telemetry;

/// <summary>
/// The watch stage's metrics and activities during real list/watch scenarios, with the real KubernetesClient against the
/// API emulator (or a <see cref="ScriptedApiServer"/>): the values and tags recorded, not just their presence. Each test
/// watches a Service of its own name, because the meter and activity source are process-wide.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public sealed class WatchTelemetryTests
{
    private const string Ns = "demo";
    private const string Requests = "k8slb.api.requests";
    private const string Relists = "k8slb.watch.relists";
    private const string Restarts = "k8slb.watch.restarts";
    private const string Backoff = "k8slb.backoff.delay";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    // ---- Startup ---------------------------------------------------------------------------------------

    [Test]
    public async Task Startup_OneListOkThenOneWatch_DisposalCountsNothingAndEndsTheWatchActivity()
    {
        const string service = "tel-startup";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080)).ScaleTo(3, i => Ip(i + 1));
        var recorder = Record(Config(emulator, service));
        await recorder.WaitForAddressesAsync(Enumerable.Range(1, 3).Select(i => $"{Ip(i)}:8080"), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        await Eventually.That(() => activities.Started(WatchActivities.WatchName, service).Count == 1, "the watch activity");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(metrics.Sum(Requests, service), Is.EqualTo(1), "only the LIST has ended");
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "ok"), ("http.response.status_code", 200), ("k8s.namespace.name", Ns)), Is.EqualTo(1));
            Assert.That(metrics.ForService(Relists, service), Is.Empty);
            Assert.That(metrics.ForService(Restarts, service), Is.Empty);
            Assert.That(metrics.ForService(Backoff, service), Is.Empty);
        }

        var list = activities.Stopped(WatchActivities.ListName, service).Single();
        var watch = activities.Started(WatchActivities.WatchName, service).Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(list.Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(list.GetTagItem("k8s.namespace.name"), Is.EqualTo(Ns));
            Assert.That(list.GetTagItem("k8slb.list.reason"), Is.EqualTo("initial"));
            Assert.That(list.GetTagItem("k8slb.list.items"), Is.EqualTo(1), "three pods in one slice");
            Assert.That(list.GetTagItem("k8slb.list.pages"), Is.EqualTo(1));
            Assert.That(list.GetTagItem("k8slb.api.outcome"), Is.EqualTo("ok"));
            Assert.That(list.GetTagItem("k8s.resource_version"), Is.EqualTo(emulator.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture)));
            Assert.That(list.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(watch.GetTagItem("k8slb.watch.initial_resource_version"), Is.EqualTo(list.GetTagItem("k8s.resource_version")));
            Assert.That(watch.IsStopped, Is.False, "the watch is still open");
        }

        recorder.Dispose();
        await emulator.WaitForOpenWatchesAsync(0, Timeout);
        await Eventually.That(() => watch.IsStopped, "the watch activity ends with its request");
        Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "watch")), Is.Zero, "a watch cancelled by disposal is not counted");
        Assert.That(watch.GetTagItem("k8slb.api.outcome"), Is.Null);
    }

    // ---- 410 Gone -------------------------------------------------------------------------------------

    [Test]
    public async Task WatchExpired_CountsTheGoneWatchOneRelistAndTheRestartsByReason()
    {
        const string service = "tel-gone";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080)).ScaleTo(2, i => Ip(i + 1));
        using var recorder = Record(Config(emulator, service));
        await recorder.WaitForAddressesAsync([$"{Ip(1)}:8080", $"{Ip(2)}:8080"], Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        // The open watch is dropped (a network error); the re-watch from its resourceVersion gets 410 and relists.
        emulator.ExpireNextWatch();
        emulator.DropAllWatches();
        await Eventually.That(() => metrics.Sum(Relists, service) == 1 && activities.Started(WatchActivities.WatchName, service).Count == 3, "a relist and a third watch");
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(metrics.Sum(Relists, service, ("k8slb.watch.relist_reason", "gone")), Is.EqualTo(1));
            Assert.That(metrics.Sum(Restarts, service, ("k8slb.watch.restart_reason", "error")), Is.EqualTo(1), "after the drop");
            Assert.That(metrics.Sum(Restarts, service, ("k8slb.watch.restart_reason", "gone")), Is.EqualTo(1), "after the 410");
            Assert.That(metrics.Sum(Restarts, service), Is.EqualTo(2));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "watch"), ("k8slb.api.outcome", "network")), Is.EqualTo(1));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "watch"), ("k8slb.api.outcome", "gone")), Is.EqualTo(1));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "ok")), Is.EqualTo(2));
            Assert.That(metrics.ForService(Requests, service).Where(m => Equals(m.Tag("k8slb.api.outcome"), "gone")).Select(m => m.Tag("http.response.status_code")),
                Is.EqualTo(new object?[] { null }), "the 410 came as an ERROR event in a 200 stream");
            Assert.That(metrics.ForService(Backoff, service).Select(m => m.Tag("k8slb.backoff.reason")), Is.EqualTo(new[] { "error" }), "only the drop waits");
        }

        var watches = activities.Stopped(WatchActivities.WatchName, service);
        var lists = activities.Stopped(WatchActivities.ListName, service);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(watches.Select(w => w.GetTagItem("k8slb.api.outcome")), Is.EqualTo(new[] { "network", "gone" }));
            Assert.That(watches.Select(w => w.Status), Has.All.EqualTo(ActivityStatusCode.Error));
            Assert.That(watches[1].Events.Select(e => e.Name), Does.Contain("relist"));
            Assert.That(lists.Select(l => l.GetTagItem("k8slb.list.reason")), Is.EqualTo(new[] { "initial", "gone" }));
        }
    }

    // ---- Outage ---------------------------------------------------------------------------------------

    [Test]
    public async Task ServiceUnavailableThreeTimes_CountsEachFailureAndRecordsEachBackoffDelay()
    {
        const string service = "tel-outage";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080)).ScaleTo(1, i => Ip(i + 1));
        using var fault = emulator.FailRequests(503, "apiserver is shutting down", count: 3);

        // No jitter: the delays are exactly 20, 40 and 80 ms.
        var backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(1), multiplier: 2, jitter: 0);
        using var recorder = Record(Config(emulator, service, backoff));
        await recorder.WaitForAddressesAsync([$"{Ip(1)}:8080"], Timeout);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "server_error"), ("http.response.status_code", 503)), Is.EqualTo(3));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.outcome", "server_error")), Is.EqualTo(3));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "ok")), Is.EqualTo(1));
            Assert.That(metrics.ForService(Backoff, service).Select(m => m.Value), Is.EqualTo(new[] { 0.02, 0.04, 0.08 }).Within(1e-9));
            Assert.That(metrics.ForService(Backoff, service).Select(m => m.Tag("k8slb.backoff.reason")), Has.All.EqualTo("error"));
            Assert.That(metrics.ForService(Backoff, service).Select(m => m.Tag("k8s.namespace.name")), Has.All.EqualTo(Ns));
            Assert.That(metrics.Sum(Relists, service, ("k8slb.watch.relist_reason", "error")), Is.EqualTo(3), "every LIST after the first");
        }

        var lists = activities.Stopped(WatchActivities.ListName, service);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lists.Select(l => l.GetTagItem("k8slb.list.reason")), Is.EqualTo(new[] { "initial", "error", "error", "error" }));
            Assert.That(lists.Select(l => l.GetTagItem("k8slb.api.outcome")), Is.EqualTo(new[] { "server_error", "server_error", "server_error", "ok" }));
            Assert.That(lists.Take(3).Select(l => l.Status), Has.All.EqualTo(ActivityStatusCode.Error));
            Assert.That(lists[0].StatusDescription, Does.Contain("503"));
            Assert.That(lists[3].GetTagItem("k8slb.list.items"), Is.EqualTo(1));
        }
    }

    // ---- Refused and throttled ------------------------------------------------------------------------

    [Test]
    public async Task Forbidden_CountsAClientErrorWithItsStatusAndBacksOffAsRefused()
    {
        const string service = "tel-forbidden";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080));
        using var fault = emulator.FailRequests(403, KubernetesApiEmulator.ForbiddenListMessage(Ns), count: 1);

        var backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(5), jitter: 0);
        using var recorder = Record(Config(emulator, service, backoff));
        await Eventually.That(() => metrics.ForService(Backoff, service).Count > 0, "a backoff delay");

        // The retry a second later may have listed again by now.
        var list = activities.Stopped(WatchActivities.ListName, service)[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "client_error"), ("http.response.status_code", 403)), Is.EqualTo(1));
            Assert.That(metrics.ForService(Backoff, service).Single().Tag("k8slb.backoff.reason"), Is.EqualTo("refused"));
            Assert.That(metrics.ForService(Backoff, service).Single().Value, Is.EqualTo(1.0), "a refusal starts at one second");
            Assert.That(list.GetTagItem("k8slb.api.outcome"), Is.EqualTo("client_error"));
            Assert.That(list.GetTagItem("http.response.status_code"), Is.EqualTo(403));
            Assert.That(list.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(list.StatusDescription, Does.Contain("403"));
        }
    }

    [Test]
    public async Task TooManyRequestsWithRetryAfter_BacksOffAsThrottledForTheAskedDelay()
    {
        const string service = "tel-throttled";
        using var metrics = new InstrumentRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080));
        using var fault = emulator.FailRequests(429, "too many requests, please try again later", count: 1, retryAfter: TimeSpan.FromSeconds(2));

        using var recorder = Record(Config(emulator, service));
        await Eventually.That(() => metrics.ForService(Backoff, service).Count > 0, "a backoff delay");

        var delay = metrics.ForService(Backoff, service).Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(delay.Tag("k8slb.backoff.reason"), Is.EqualTo("throttled"));
            Assert.That(delay.Value, Is.EqualTo(2.0));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.outcome", "client_error"), ("http.response.status_code", 429)), Is.EqualTo(1));
        }
    }

    // ---- Idle watchdog and server timeout -------------------------------------------------------------

    [Test]
    public async Task StalledWatch_IdleWatchdogCountsATimeoutAndAnIdleRestart()
    {
        const string service = "tel-idle";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080)).ScaleTo(1, i => Ip(i + 1));
        emulator.StallNextWatch();

        using var recorder = Record(Config(emulator, service, idle: TimeSpan.FromSeconds(1)));
        await Eventually.That(() => metrics.Sum(Restarts, service) == 1, "a restart");

        var stalled = await StoppedSingle(activities, WatchActivities.WatchName, service);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(metrics.Sum(Restarts, service, ("k8slb.watch.restart_reason", "idle")), Is.EqualTo(1));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "watch"), ("k8slb.api.outcome", "timeout")), Is.EqualTo(1));
            Assert.That(metrics.ForService(Requests, service).Single(m => Equals(m.Tag("k8slb.api.verb"), "watch")).Tag("http.response.status_code"), Is.Null);
            Assert.That(metrics.ForService(Relists, service), Is.Empty, "an idle watch resumes from its resourceVersion");
            Assert.That(stalled.GetTagItem("k8slb.api.outcome"), Is.EqualTo("timeout"));
            Assert.That(stalled.Events.Select(e => e.Name), Is.EqualTo(new[] { "established", "idle" }));
            Assert.That(stalled.GetTagItem("k8slb.watch.events"), Is.Zero);
        }
    }

    [Test]
    public async Task WatchClosedByTheServer_CountsAnOkWatchAndAServerTimeoutRestart_TheActivityEndsAtTheLastResourceVersion()
    {
        const string service = "tel-server-timeout";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();

        // The LIST is at resourceVersion 7; the first watch delivers one slice (8) and a bookmark (9), then the server
        // ends the response properly, as at timeoutSeconds; the second watch stays open.
        await using var server = ScriptedApiServer.Scripted(request => (request.Watch, request.Number) switch
        {
            (false, _) => ScriptedApiServer.ListReply(),
            (true, 1) => CompleteWatch(SliceAdded(service, "8"), ScriptedApiServer.Bookmark("9")),
            _ => ScriptedApiServer.WatchReply(keepOpen: true, ScriptedApiServer.Bookmark("9")),
        });
        var config = new DiscoveryConfig(service, 8080)
        {
            Namespace = Ns,
            ClientConfiguration = server.ClientConfiguration,
            Debounce = TimeSpan.Zero,
            StreamingLists = false, // a scripted server of the classic protocol
        };

        using var recorder = Record(config);
        await Eventually.That(() => metrics.Sum(Restarts, service) == 1, "the second watch");

        var ended = await StoppedSingle(activities, WatchActivities.WatchName, service);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(metrics.Sum(Restarts, service, ("k8slb.watch.restart_reason", "server_timeout")), Is.EqualTo(1));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "watch"), ("k8slb.api.outcome", "ok"), ("http.response.status_code", 200)), Is.EqualTo(1));
            Assert.That(metrics.ForService(Relists, service), Is.Empty);
            Assert.That(metrics.ForService(Backoff, service), Is.Empty);
            Assert.That(ended.GetTagItem("k8slb.api.outcome"), Is.EqualTo("ok"));
            Assert.That(ended.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(ended.Events.Select(e => e.Name), Is.EqualTo(new[] { "established", "first_event" }));
            Assert.That(ended.GetTagItem("k8slb.watch.initial_resource_version"), Is.EqualTo("7"));
            Assert.That(ended.GetTagItem("k8s.resource_version"), Is.EqualTo("9"), "the bookmark's");
            Assert.That(ended.GetTagItem("k8slb.watch.events"), Is.EqualTo(1));
            Assert.That(ended.GetTagItem("k8slb.watch.bookmarks"), Is.EqualTo(1));
            Assert.That(activities.Started(WatchActivities.WatchName, service)[1].GetTagItem("k8slb.watch.initial_resource_version"), Is.EqualTo("9"));
        }
    }

    // ---- Pagination -----------------------------------------------------------------------------------

    [Test]
    public async Task ContinueTokenExpired_TheListStartsOverInOneActivity()
    {
        const string service = "tel-continue";
        using var metrics = new InstrumentRecorder();
        using var activities = new ActivityRecorder();

        // Page 1 of the first snapshot, then its continue token has expired; the second snapshot fits in one page.
        await using var server = ScriptedApiServer.Scripted(request => (request.Watch, request.Number) switch
        {
            (false, 1) => ListPage("5", "next-page", "slice-a"),
            (false, 2) => ScriptedApiServer.StatusReply(410, "The provided continue parameter is too old"),
            (false, _) => ListPage("9", null, "slice-a", "slice-b"),
            _ => ScriptedApiServer.WatchReply(keepOpen: true, ScriptedApiServer.Bookmark("9")),
        });
        var config = new DiscoveryConfig(service, 8080)
        {
            Namespace = Ns,
            ClientConfiguration = server.ClientConfiguration,
            Debounce = TimeSpan.Zero,
            ListPageSize = 1,
            StreamingLists = false, // a scripted server of the classic protocol
        };

        using var recorder = Record(config);
        await Eventually.That(() => activities.Stopped(WatchActivities.ListName, service).Count == 1, "the list activity");

        var list = activities.Stopped(WatchActivities.ListName, service).Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(list.GetTagItem("k8slb.list.items"), Is.EqualTo(2), "the second snapshot, not the first page nor nothing");
            Assert.That(list.GetTagItem("k8slb.list.pages"), Is.EqualTo(2));
            Assert.That(list.GetTagItem("k8s.resource_version"), Is.EqualTo("9"));
            Assert.That(list.GetTagItem("k8slb.api.outcome"), Is.EqualTo("ok"));
            Assert.That(list.Events.Select(e => e.Name), Is.EqualTo(new[] { "continue_expired" }));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "gone"), ("http.response.status_code", 410)), Is.EqualTo(1));
            Assert.That(metrics.Sum(Requests, service, ("k8slb.api.verb", "list"), ("k8slb.api.outcome", "ok")), Is.EqualTo(2));
            Assert.That(metrics.ForService(Relists, service), Is.Empty);
            Assert.That(server.Lists, Is.EqualTo(3));
        }
    }

    // ---- Context ---------------------------------------------------------------------------------------

    [Test]
    public async Task Activities_AreRootsAndNeverTheCurrentActivityOfTheSubscriber()
    {
        const string service = "tel-current";
        using var activities = new ActivityRecorder();
        using var userSource = new ActivitySource("Reactive.K8sLb.Tests.User");
        using var userListener = new ActivityListener
        {
            ShouldListenTo = source => source == userSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(userListener);
        await using var emulator = await StartAsync();
        var pods = emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080));
        pods.ScaleTo(1, i => Ip(i + 1));
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string?>();
        var updates = 0;

        IDisposable subscription;
        using (var user = userSource.StartActivity("user-request"))
        {
            Assert.That(user, Is.Not.Null);
            subscription = KubernetesDiscovery.Observe(Config(emulator, service)).Updates.Subscribe(_ =>
            {
                seen.Enqueue(Activity.Current?.Source.Name);
                Interlocked.Increment(ref updates);
            });
        }

        using (subscription)
        {
            await Eventually.That(() => Volatile.Read(ref updates) >= 1, "the first update");
            await emulator.WaitForOpenWatchesAsync(1, Timeout);
            pods.AddPod(Ip(2));
            await Eventually.That(() => Volatile.Read(ref updates) >= 2, "an update from the watch");
        }

        var list = activities.Stopped(WatchActivities.ListName, service).Single();
        var watch = activities.Started(WatchActivities.WatchName, service)[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen, Has.None.EqualTo(K8sLbTelemetry.ActivitySourceName).And.None.EqualTo("System.Net.Http"));
            Assert.That(list.Parent, Is.Null);
            Assert.That(list.ParentSpanId, Is.EqualTo(default(ActivitySpanId)));
            Assert.That(watch.Parent, Is.Null);
        }
    }

    // ---- Logs ------------------------------------------------------------------------------------------

    [Test]
    public async Task WatchLogMessages_CarryTheServiceAndNamespaceScope()
    {
        const string service = "tel-log-scope";
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, service, new EmulatedServicePort("grpc", 8080)).ScaleTo(1, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();

        using (var recorder = Record(Config(emulator, service, logs: logs)))
        {
            await recorder.WaitForAddressesAsync([$"{Ip(1)}:8080"], Timeout);
            await Eventually.That(() => logs.Entries.Any(e => e.EventId.Id == 202), "the Watching message");
        }

        var watchEntries = logs.ScopedEntries.Where(e => e.EventId.Id is >= 200 and < 300).ToList();
        Assert.That(watchEntries.Select(e => e.EventId.Id), Does.Contain(201).And.Contain(202));
        foreach (var entry in watchEntries)
        {
            var scope = entry.Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().Single();
            Assert.That(scope, Does.Contain(new KeyValuePair<string, object?>(K8sLbTelemetry.ServiceNameTag, service)), $"event {entry.EventId.Id}");
            Assert.That(scope, Does.Contain(new KeyValuePair<string, object?>(K8sLbTelemetry.NamespaceTag, Ns)), $"event {entry.EventId.Id}");
            Assert.That(entry.Scopes.Single().ToString(), Is.EqualTo($"Service {Ns}/{service}"));
        }
    }

    [Test]
    public async Task ClientCannotBeCreated_RetriedAsAFailureNotAStreamError_BackoffRecordedWithoutNamespace()
    {
        const string service = "tel-no-client";
        using var metrics = new InstrumentRecorder();
        var config = new DiscoveryConfig(service, 8080)
        {
            ClientConfiguration = new k8s.KubernetesClientConfiguration { Host = "http://[not-a-host" },
            Debounce = TimeSpan.Zero,
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(100)),
        };

        using var recorder = Record(config);
        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status");
        await Eventually.That(() => metrics.ForService(Backoff, service).Count >= 2, "two retries");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(recorder.Violations, Is.Empty, "the stream does not end");
            Assert.That(metrics.ForService(Requests, service), Is.Empty, "no request was made");
            Assert.That(metrics.ForService(Backoff, service).Select(m => m.Tag("k8s.namespace.name")), Has.All.EqualTo(string.Empty));
        }
    }

    // ---- Helpers ---------------------------------------------------------------------------------------

    private static Task<KubernetesApiEmulator> StartAsync() =>
        KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { BookmarkInterval = TimeSpan.FromMilliseconds(100) });

    private static DiscoveryConfig Config(
        KubernetesApiEmulator emulator,
        string service,
        BackoffOptions? backoff = null,
        TimeSpan? idle = null,
        CapturingLoggerFactory? logs = null) =>
        new(service, 8080)
        {
            LoggerFactory = logs,
            Namespace = Ns,
            ClientConfiguration = emulator.ClientConfiguration,
            Debounce = TimeSpan.Zero,
            Backoff = backoff ?? new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(3)),
            IdleTimeout = idle ?? TimeSpan.FromSeconds(30),
            StreamingLists = false, // the LIST instruments; StreamingListTests covers the streaming list's
        };

    private static EndpointSetRecorder Record(DiscoveryConfig config) => new(KubernetesDiscovery.Observe(config));

    private static string Ip(int i) => $"10.0.0.{i}";

    /// <summary>The one stopped activity; its tags are set before it stops, so wait for the stop, not the metric.</summary>
    private static async Task<Activity> StoppedSingle(ActivityRecorder activities, string name, string service)
    {
        await Eventually.That(() => activities.Stopped(name, service).Count >= 1, $"a stopped {name}");
        return activities.Stopped(name, service).Single();
    }

    /// <summary>A watch answered 200 whose chunked body holds <paramref name="lines"/> and then ends properly.</summary>
    private static ScriptedReply CompleteWatch(params string[] lines) =>
        new(ScriptedApiServer.WatchReply(keepOpen: false, lines).Text + "0\r\n\r\n");

    private static string SliceAdded(string service, string resourceVersion) =>
        $$$"""{"type":"ADDED","object":{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"{{{service}}}-a","namespace":"{{{Ns}}}","resourceVersion":"{{{resourceVersion}}}","labels":{"kubernetes.io/service-name":"{{{service}}}"}},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}}],"ports":[{"port":8080}]}}""";

    private static ScriptedReply ListPage(string resourceVersion, string? continueToken, params string[] slices)
    {
        var items = string.Join(",", slices.Select(name =>
            $$"""{"metadata":{"name":"{{name}}","namespace":"{{Ns}}","resourceVersion":"{{resourceVersion}}"},"addressType":"IPv4","endpoints":[],"ports":[]}"""));
        var metadata = continueToken is null
            ? $$"""{"resourceVersion":"{{resourceVersion}}"}"""
            : $$"""{"resourceVersion":"{{resourceVersion}}","continue":"{{continueToken}}"}""";
        var body = $$"""{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSliceList","metadata":{{metadata}},"items":[{{items}}]}""";
        return new ScriptedReply($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {System.Text.Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}");
    }
}
