using System.Net;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>
/// KubernetesDiscovery.Observe with the real KubernetesClient over real HTTP against the API emulator.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public sealed class KubernetesDiscoveryTests
{
    private const string Ns = "demo";
    private const string Service = "greeter";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task InitialSync_ServiceWithSeveralSlices_ObservesEveryReadyEndpoint()
    {
        await using var emulator = await StartAsync(maxPerSlice: 2);
        var service = AddService(emulator);
        for (var i = 1; i <= 5; i++) service.AddPod(Ip(i));
        service.AddPod(Ip(6), ready: false);

        using var recorder = Record(emulator);

        await recorder.WaitForAddressesAsync(Addresses(1, 5), Timeout);
        Assert.That(service.SliceNames, Has.Count.GreaterThanOrEqualTo(3));
        Assert.That(recorder.Status!.IsSynchronized, Is.True);
        Assert.That(recorder.Violations, Is.Empty);
    }

    [Test]
    public async Task InitialSync_EmptyService_IsSynchronizedWithNoEndpoints()
    {
        await using var emulator = await StartAsync();
        AddService(emulator);

        using var recorder = Record(emulator);

        await recorder.WaitForStatusAsync(s => s.IsSynchronized && s.Health == DiscoveryHealth.Healthy, Timeout);
        Assert.That(recorder.Changes, Is.Empty);
    }

    [Test]
    public async Task ScaleUpThenDown_SetFollowsThePods()
    {
        await using var emulator = await StartAsync(maxPerSlice: 3);
        var service = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);

        service.ScaleTo(7, i => Ip(i + 1));
        await recorder.WaitForAddressesAsync(Addresses(1, 7), Timeout);

        service.ScaleTo(1, i => Ip(i + 1));
        await recorder.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        Assert.That(recorder.Violations, Is.Empty);
    }

    [Test]
    public async Task ReadinessFlip_EndpointLeavesAndReturns()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);

        service.SetReady(Ip(2), false);
        await recorder.WaitForAddressesAsync([Addr(1), Addr(3)], Timeout);
        service.SetReady(Ip(2), true);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);

        Assert.That(recorder.Changes.Where(c => Format(c.Item) == Addr(2)).Select(c => c.Kind),
            Is.EqualTo(new[] { ChangeKind.Insert, ChangeKind.Remove, ChangeKind.Insert }));
    }

    [Test]
    public async Task EndpointMovedBetweenSlices_ProducesNoChangeForIt()
    {
        await using var emulator = await StartAsync(maxPerSlice: 2);
        var service = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        var target = service.SliceNames.First(name => !service.Pods.Any(p => p.Ip == Ip(1) && p.SliceName == name));
        var countBefore = recorder.Changes.Count;

        service.MoveEndpoint(Ip(1), target);
        service.AddPod(Ip(9)); // a marker: once it arrives, the move has been processed too
        await recorder.WaitForAddressesAsync([.. Addresses(1, 3), Addr(9)], Timeout);

        Assert.That(recorder.Changes.Skip(countBefore), Is.EqualTo(new[] { Change.Insert<EndPoint>(Ep(9)) }));
    }

    [Test]
    public async Task SliceDeleted_EndpointStillInAnotherSlice_Stays()
    {
        await using var emulator = await StartAsync();
        emulator.PutSlice(Slice("greeter-a", Ip(1), Ip(2)));
        emulator.PutSlice(Slice("greeter-b", Ip(2), Ip(3)));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);

        emulator.DeleteSlice(Ns, "greeter-a");

        await recorder.WaitForAddressesAsync([Addr(2), Addr(3)], Timeout);
        Assert.That(recorder.Changes.Where(c => c.Kind == ChangeKind.Remove), Is.EqualTo(new[] { Change.Remove<EndPoint>(Ep(1)) }));
    }

    [Test]
    public async Task NamedPort_ResolvedInEachSlice()
    {
        await using var emulator = await StartAsync();
        emulator.PutSlice(Slice("greeter-old", port: 5000, Ip(1)));
        emulator.PutSlice(Slice("greeter-new", port: 6000, Ip(2)));
        using var recorder = Record(emulator, port: ServicePort.FromName("grpc"));

        await recorder.WaitForAddressesAsync([$"{Ip(1)}:5000", $"{Ip(2)}:6000"], Timeout);
    }

    [Test]
    public async Task DropAllWatches_ChangesDuringTheGapArriveAndNothingElseChanges()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        emulator.DropAllWatches();
        service.RemovePod(Ip(3));
        service.AddPod(Ip(4));

        await recorder.WaitForAddressesAsync([Addr(1), Addr(2), Addr(4)], Timeout);
        AssertOnlyChanged(recorder, inserted: [1, 2, 3, 4], removed: [3]);
    }

    [Test]
    public async Task WatchExpired_RelistsExactlyOnceAndReconciles()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        var listsBefore = Count(emulator, RequestKind.List);

        emulator.ExpireNextWatch();
        emulator.DropAllWatches();
        service.RemovePod(Ip(1));

        await recorder.WaitForAddressesAsync([Addr(2), Addr(3)], Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        Assert.That(Count(emulator, RequestKind.List) - listsBefore, Is.EqualTo(1));
        AssertOnlyChanged(recorder, inserted: [1, 2, 3], removed: [1]);
    }

    [Test]
    public async Task HistoryCompacted_WhileDisconnected_RelistRemovesWhatWasDeletedInTheGap()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(4, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 4), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        using (emulator.FailRequests(500, "etcd leader changed", count: 1))
        {
            emulator.DropAllWatches();
            service.RemovePod(Ip(4));
            service.AddPod(Ip(5));
            emulator.ExpireHistory();
            await recorder.WaitForAddressesAsync([Addr(1), Addr(2), Addr(3), Addr(5)], Timeout);
        }

        AssertOnlyChanged(recorder, inserted: [1, 2, 3, 4, 5], removed: [4]);
        Assert.That(recorder.Violations, Is.Empty);
    }

    [Test]
    public async Task WatchTimesOutNormally_ResumesFromResourceVersionWithoutList()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        using var recorder = Record(emulator, configure: c => c with { WatchTimeoutOverride = TimeSpan.FromSeconds(1) });
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);

        await recorder.WaitForAsync(() => Count(emulator, RequestKind.Watch) >= 2, Timeout, () => "a second watch request: " + string.Join("; ", emulator.Requests.Select(r => $"{r.Kind} {r.StatusCode} {string.Join("&", r.Query.Select(q => q.Key + "=" + q.Value))}")));
        service.AddPod(Ip(3));
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);

        var watches = emulator.Requests.Where(r => r.Kind == RequestKind.Watch).ToList();
        Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
        Assert.That(watches.Skip(1).Select(w => w.Query.GetValueOrDefault("resourceVersion")), Has.All.Not.Null.And.Not.Empty);
        Assert.That(watches.Select(w => w.Query.GetValueOrDefault("allowWatchBookmarks")), Has.All.EqualTo("true"));
        Assert.That(watches.Select(w => int.Parse(w.Query["timeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture)), Has.All.InRange(1, 2));
    }

    [Test]
    public async Task ForbiddenAtStart_ReportsFailingWithTheServersTextThenRecoversWithoutResubscribing()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();
        var fault = emulator.FailRequests(403, KubernetesApiEmulator.ForbiddenListMessage(Ns));

        using var recorder = Record(emulator, logs: logs);
        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status");

        Assert.That(recorder.Status!.IsSynchronized, Is.False);
        Assert.That(recorder.Status.Message, Does.Contain("forbidden").And.Contain("403").And.Contain("endpointslices"));
        Assert.That(logs.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains("forbidden", StringComparison.Ordinal)), Is.True);

        fault.Dispose();
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);
        Assert.That(recorder.Status!.Health, Is.EqualTo(DiscoveryHealth.Healthy));
    }

    [Test]
    public async Task ApiDownAfterSync_KeepsLastKnownEndpointsAndRecovers()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(3, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        var fault = emulator.FailRequests(503, "apiserver is shutting down");
        emulator.DropAllWatches();
        await recorder.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing, Timeout, "a failing status");
        Assert.That(recorder.Addresses, Is.EquivalentTo(Addresses(1, 3)));
        Assert.That(recorder.Status!.IsSynchronized, Is.True);

        service.AddPod(Ip(4));
        fault.Dispose();
        await recorder.WaitForAddressesAsync(Addresses(1, 4), Timeout);
        AssertOnlyChanged(recorder, inserted: [1, 2, 3, 4], removed: []);
    }

    [Test]
    public async Task StalledWatch_IdleWatchdogReestablishesIt()
    {
        await using var emulator = await StartAsync(bookmarks: TimeSpan.FromMilliseconds(200));
        var service = AddService(emulator);
        service.ScaleTo(1, i => Ip(i + 1));
        using var recorder = Record(emulator, configure: c => c with { IdleTimeout = TimeSpan.FromSeconds(1) });
        await recorder.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        var watchesBefore = Count(emulator, RequestKind.Watch);

        emulator.StallNextWatch();
        emulator.DropAllWatches();
        await recorder.WaitForAsync(() => Count(emulator, RequestKind.Watch) >= watchesBefore + 2, Timeout, () => "a watch after the stalled one");
        service.AddPod(Ip(2));

        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);
    }

    [Test]
    public async Task MalformedLine_IsSkippedAndTheWatchContinues()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(1, i => Ip(i + 1));
        var logs = new CapturingLoggerFactory();
        using var recorder = Record(emulator, logs: logs);
        await recorder.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        service.AddPod(Ip(2)); // the watch has delivered a line, so the bad one is not its first (that one fails the request)
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);

        emulator.SendMalformedLine();
        service.AddPod(Ip(3));

        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
        Assert.That(logs.Entries.Any(e => e.EventId.Id == 205), Is.True, "the skipped line is logged");
    }

    [Test]
    public async Task ApiServerRestart_RecoversAndFollowsLaterChanges()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(2, i => Ip(i + 1));
        using var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 2), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        await emulator.RestartAsync();
        service.AddPod(Ip(3));

        await recorder.WaitForAddressesAsync(Addresses(1, 3), Timeout);
        AssertOnlyChanged(recorder, inserted: [1, 2, 3], removed: []);
    }

    [Test]
    public async Task Dispose_ClosesTheWatch()
    {
        await using var emulator = await StartAsync();
        AddService(emulator).ScaleTo(1, i => Ip(i + 1));
        var recorder = Record(emulator);
        await recorder.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        recorder.Dispose();

        await emulator.WaitForOpenWatchesAsync(0, Timeout);
    }

    [Test]
    public async Task EachSubscription_HasItsOwnWatch_WhenNotShared()
    {
        await using var emulator = await StartAsync();
        AddService(emulator).ScaleTo(1, i => Ip(i + 1));
        var config = Config(emulator);
        config.ShareWatch = false;
        var observable = KubernetesDiscovery.Observe(config);

        using var first = new EndpointSetRecorder(observable);
        using var second = new EndpointSetRecorder(observable);

        await first.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        await second.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        await emulator.WaitForOpenWatchesAsync(2, Timeout);
    }

    [Test]
    public async Task NothingHappens_UntilSubscription()
    {
        await using var emulator = await StartAsync();
        AddService(emulator);

        var observable = KubernetesDiscovery.Observe(Config(emulator));

        Assert.That(observable, Is.Not.Null);
        Assert.That(emulator.Requests.Where(r => r.Kind != RequestKind.Other), Is.Empty);
    }

    [Test]
    public async Task LargeService_2000EndpointsIn20Slices_SyncsWithPagination()
    {
        await using var emulator = await StartAsync();
        var service = AddService(emulator);
        service.ScaleTo(2000, i => $"10.{1 + (i / 250)}.{i % 250}.{1 + (i % 7)}");
        using var recorder = Record(emulator, configure: c => c with { PageSize = 7 });

        await recorder.WaitForAsync(() => recorder.UpdateCount > 0 && recorder.Status!.IsSynchronized, Timeout, () => "synchronisation");

        Assert.That(service.SliceNames, Has.Count.EqualTo(20));
        Assert.That(recorder.Addresses, Has.Count.EqualTo(2000));
        Assert.That(emulator.Requests.Count(r => r.Kind == RequestKind.List && r.Query.ContainsKey("continue")), Is.EqualTo(2));
        Assert.That(emulator.Requests.Where(r => r.Kind == RequestKind.List).Select(r => r.Query.GetValueOrDefault("limit")), Has.All.EqualTo("7"));
    }

    [Test]
    public async Task BadSlices_AreSkippedWithWarningsAndTheStreamContinues()
    {
        await using var emulator = await StartAsync();
        var logs = new CapturingLoggerFactory();
        emulator.PutSlice(Slice("greeter-good", Ip(1)));
        emulator.PutSlice(Slice("greeter-badip", "999.1.1.1", "not-an-ip", Ip(2)));
        emulator.PutSlice(Slice("greeter-noport", port: null, Ip(3)));
        var unknownType = Slice("greeter-unknown", Ip(4));
        unknownType.AddressType = "Carrier-Pigeon";
        emulator.PutSlice(unknownType);
        var noEndpoints = Slice("greeter-empty");
        noEndpoints.Endpoints = null;
        emulator.PutSlice(noEndpoints);

        using var recorder = Record(emulator, logs: logs, port: ServicePort.FromName("grpc"));
        await recorder.WaitForAddressesAsync([$"{Ip(1)}:8080", $"{Ip(2)}:8080"], Timeout);
        emulator.PutSlice(Slice("greeter-later", Ip(5)));

        await recorder.WaitForAddressesAsync([$"{Ip(1)}:8080", $"{Ip(2)}:8080", $"{Ip(5)}:8080"], Timeout);
        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.That(warnings, Has.Some.Contains("999.1.1.1"));
        Assert.That(warnings, Has.Some.Contains("not-an-ip"));
        Assert.That(warnings, Has.Some.Contains("greeter-noport"));
        Assert.That(warnings, Has.Some.Contains("Carrier-Pigeon"));
    }

    [Test]
    public async Task NamespaceNotSet_UsesTheClientConfigurationsNamespace()
    {
        await using var emulator = await StartAsync();
        AddService(emulator).ScaleTo(1, i => Ip(i + 1));
        var configuration = emulator.ClientConfiguration;
        configuration.Namespace = Ns;
        var config = new DiscoveryConfig(Service, 8080) { ClientConfiguration = configuration, Debounce = TimeSpan.Zero };

        using var recorder = new EndpointSetRecorder(KubernetesDiscovery.Observe(config));

        await recorder.WaitForAddressesAsync(Addresses(1, 1), Timeout);
        Assert.That(emulator.Requests.First(r => r.Kind == RequestKind.List || r.IsStreamingList).Path, Does.Contain($"/namespaces/{Ns}/"));
    }

    [Test]
    public void Observe_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => KubernetesDiscovery.Observe(null!));
        Assert.Throws<ArgumentNullException>(() => KubernetesDiscovery.Observe(null!, new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:1" })));
        Assert.Throws<ArgumentNullException>(() => KubernetesDiscovery.Observe(new DiscoveryConfig(Service, 80), null!));
    }

    // ---- helpers -----------------------------------------------------------------------------------

    private sealed record Tuning(TimeSpan? WatchTimeoutOverride = null, TimeSpan? IdleTimeout = null, int? PageSize = null);

    private static Task<KubernetesApiEmulator> StartAsync(int maxPerSlice = 100, TimeSpan? bookmarks = null) =>
        KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions
        {
            MaxEndpointsPerSlice = maxPerSlice,
            BookmarkInterval = bookmarks ?? TimeSpan.FromSeconds(1),
        });

    private static EmulatedService AddService(KubernetesApiEmulator emulator) =>
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080));

    private static DiscoveryConfig Config(KubernetesApiEmulator emulator, ServicePort? port = null, ILoggerFactory? logs = null, Tuning? tuning = null) =>
        new(Service, port ?? ServicePort.FromNumber(8080))
        {
            Namespace = Ns,
            ClientConfiguration = emulator.ClientConfiguration,
            Debounce = TimeSpan.Zero,
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromMilliseconds(300)),
            WatchTimeout = tuning?.WatchTimeoutOverride ?? TimeSpan.FromSeconds(60),
            IdleTimeout = tuning?.IdleTimeout ?? TimeSpan.FromSeconds(30),
            ListPageSize = tuning?.PageSize ?? 500,
            LoggerFactory = logs,
            StreamingLists = false, // this fixture pins the classic LIST + WATCH protocol; StreamingListTests the other
        };

    private static EndpointSetRecorder Record(KubernetesApiEmulator emulator, ServicePort? port = null, ILoggerFactory? logs = null, Func<Tuning, Tuning>? configure = null) =>
        new(KubernetesDiscovery.Observe(Config(emulator, port, logs, configure?.Invoke(new Tuning()))));

    private static int Count(KubernetesApiEmulator emulator, RequestKind kind) => emulator.Requests.Count(r => r.Kind == kind);

    private static string Ip(int i) => $"10.0.0.{i}";

    private static string Addr(int i) => $"{Ip(i)}:8080";

    private static IPEndPoint Ep(int i) => new(IPAddress.Parse(Ip(i)), 8080);

    private static string Format(EndPoint endpoint) => EndpointSetRecorder.Format(endpoint);

    private static IEnumerable<string> Addresses(int from, int to) => Enumerable.Range(from, to - from + 1).Select(Addr);

    /// <summary>Every change seen is one of the expected ones, each exactly once: no spurious remove/insert.</summary>
    private static void AssertOnlyChanged(EndpointSetRecorder recorder, int[] inserted, int[] removed)
    {
        var expected = inserted.Select(i => Change.Insert<EndPoint>(Ep(i))).Concat(removed.Select(i => Change.Remove<EndPoint>(Ep(i))));
        Assert.That(recorder.Changes, Is.EquivalentTo(expected));
        Assert.That(recorder.Violations, Is.Empty);
    }

    private static V1EndpointSlice Slice(string name, params string[] ips) => Slice(name, 8080, ips);

    private static V1EndpointSlice Slice(string name, int? port, params string[] ips) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = Ns,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = Service },
        },
        AddressType = "IPv4",
        Ports = port is null ? [] : [new Discoveryv1EndpointPort { Name = "grpc", Port = port, Protocol = "TCP" }],
        Endpoints = ips.Select(ip => new V1Endpoint { Addresses = [ip], Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false } }).ToList(),
    };
}
