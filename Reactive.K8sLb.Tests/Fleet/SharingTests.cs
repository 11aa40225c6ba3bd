using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Sharing;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// One watch per Service per process (<see cref="DiscoveryOptions.ShareWatch"/>): subscriptions and <c>k8s:///</c>
/// channels on the same Service through the same API server share one LIST+WATCH, each projecting the slices itself;
/// proved from the emulator's request log, which counts what the API server really received.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public sealed class SharingTests
{
    private const string Ns = "fleet";
    private const string Service = "greeter";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task TenSubscriptions_OneService_OneListOneWatch_AllSeeTheSameScaleChanges()
    {
        await using var emulator = await StartAsync();
        var service = emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080));
        service.ScaleTo(3, Ip);

        // A configuration of its own each, and a client configuration of its own each: equal values share.
        var recorders = Enumerable.Range(0, 10).Select(_ => Record(Config(emulator))).ToList();
        try
        {
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(Addresses(0, 3), Timeout);
            service.ScaleTo(5, Ip);
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(Addresses(0, 5), Timeout);
            service.ScaleTo(2, Ip);
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(Addresses(0, 2), Timeout);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
                Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
                Assert.That(emulator.OpenWatchCount, Is.EqualTo(1));
                Assert.That(recorders.SelectMany(r => r.Violations), Is.Empty);
            }
        }
        finally
        {
            recorders.ForEach(r => r.Dispose());
        }
    }

    [Test]
    public async Task LateSubscriber_GetsTheCurrentSetAndStatusAtOnce_WithoutANewList()
    {
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(3, Ip);
        using var first = Record(Config(emulator));
        await first.WaitForAddressesAsync(Addresses(0, 3), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        // No wait: the current state is replayed while Subscribe runs.
        using var late = Record(Config(emulator));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(late.Addresses, Is.EquivalentTo(Addresses(0, 3)));
            Assert.That(late.Statuses, Has.Count.EqualTo(1), "one first snapshot");
            Assert.That(late.Status, Is.Not.Null);
            Assert.That(late.Status!.IsSynchronized, Is.True);
            Assert.That(late.Status.Health, Is.EqualTo(DiscoveryHealth.Healthy));
            Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
            Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task LateSubscriber_WhileTheWatchFails_GetsTheSetAndTheFailureAtOnce()
    {
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(2, Ip);
        using var first = Record(Config(emulator));
        await first.WaitForAddressesAsync(Addresses(0, 2), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);

        using var failing = emulator.FailRequests(500, "etcd is down");
        emulator.DropAllWatches();
        await first.WaitForStatusAsync(s => s.Health == DiscoveryHealth.Failing && s.Message!.Contains("etcd is down", StringComparison.Ordinal), Timeout, "failing with the server's message");
        using var late = Record(Config(emulator));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(late.Addresses, Is.EquivalentTo(Addresses(0, 2)), "the last known endpoints");
            Assert.That(late.Status!.Health, Is.EqualTo(DiscoveryHealth.Failing));
            Assert.That(late.Status.IsSynchronized, Is.True);
            Assert.That(late.Status.Message, Does.Contain("etcd is down"));
        }
    }

    [Test]
    public async Task DifferentPorts_ShareTheWatch_AndProjectEachTheirOwn()
    {
        await using var emulator = await StartAsync();
        var service = emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080), new EmulatedServicePort("http", 9090));
        service.ScaleTo(2, Ip);
        using var grpc = Record(Config(emulator, port: "grpc"));
        using var http = Record(Config(emulator, port: "http"));
        using var byNumber = Record(Config(emulator, port: "grpc", readiness: ReadinessPolicy.ReadyOnly));

        await grpc.WaitForAddressesAsync(Addresses(0, 2, 8080), Timeout);
        await http.WaitForAddressesAsync(Addresses(0, 2, 9090), Timeout);
        await byNumber.WaitForAddressesAsync(Addresses(0, 2, 8080), Timeout);
        service.ScaleTo(3, Ip);
        await grpc.WaitForAddressesAsync(Addresses(0, 3, 8080), Timeout);
        await http.WaitForAddressesAsync(Addresses(0, 3, 9090), Timeout);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
            Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task OptOut_EverySubscriptionListsAndWatches()
    {
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(1, Ip);
        var recorders = Enumerable.Range(0, 3).Select(_ =>
        {
            var config = Config(emulator);
            config.ShareWatch = false;
            return Record(config);
        }).ToList();
        try
        {
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(Addresses(0, 1), Timeout);
            await emulator.WaitForOpenWatchesAsync(3, Timeout);
            Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(3));
        }
        finally
        {
            recorders.ForEach(r => r.Dispose());
        }
    }

    [Test]
    public async Task DisposingOneSubscriber_LeavesTheOthersAndTheWatchAlone()
    {
        await using var emulator = await StartAsync();
        var service = emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080));
        service.ScaleTo(1, Ip);
        using var kept = Record(Config(emulator));
        var leaving = Record(Config(emulator));
        await kept.WaitForAddressesAsync(Addresses(0, 1), Timeout);
        await leaving.WaitForAddressesAsync(Addresses(0, 1), Timeout);

        leaving.Dispose();
        service.ScaleTo(2, Ip);

        await kept.WaitForAddressesAsync(Addresses(0, 2), Timeout);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(leaving.Addresses, Is.EquivalentTo(Addresses(0, 1)), "nothing after disposal");
            Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
            Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task ThrowingSubscriber_NeverReachesTheWatchOrTheOthers()
    {
        await using var emulator = await StartAsync();
        var service = emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080));
        service.ScaleTo(1, Ip);
        var logs = new CapturingLoggerFactory();
        var config = Config(emulator, logs: logs);
        var thrown = 0;

        // Straight on the shared signals (Observe guards a user's observer before it gets here).
        using var throwing = SharedWatches.Signals(config, client: null).Subscribe(_ =>
        {
            Interlocked.Increment(ref thrown);
            throw new InvalidOperationException("subscriber bug");
        });
        using var recorder = Record(Config(emulator, logs: logs));
        await recorder.WaitForAddressesAsync(Addresses(0, 1), Timeout);
        service.ScaleTo(2, Ip);
        await recorder.WaitForAddressesAsync(Addresses(0, 2), Timeout);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(thrown, Is.GreaterThanOrEqualTo(2), "it keeps receiving");
            Assert.That(logs.Exceptions.Where(e => e.EventId.Id == 601).Select(e => e.Exception.Message), Has.Some.EqualTo("subscriber bug"));
            Assert.That(recorder.Status!.Health, Is.EqualTo(DiscoveryHealth.Healthy));
            Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1), "no relist: the exception never reached the watcher");
            Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task LastUnsubscribe_StopsTheWatchAfterTheLinger_AndAReturnWithinItKeepsTheWatch()
    {
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(2, Ip);
        var timers = new VirtualTimers();
        var linger = TimeSpan.FromSeconds(5);
        DiscoveryConfig Lingering()
        {
            var config = Config(emulator, scheduler: timers);
            config.ShareLinger = linger;
            return config;
        }

        var first = Record(Lingering());
        var second = Record(Lingering());
        await first.WaitForAddressesAsync(Addresses(0, 2), Timeout);
        await second.WaitForAddressesAsync(Addresses(0, 2), Timeout);
        await emulator.WaitForOpenWatchesAsync(1, Timeout);
        first.Dispose();
        second.Dispose();

        // Back just before the linger is over: the same watch, the set at once, no LIST.
        timers.AdvanceBy(linger - TimeSpan.FromTicks(1));
        var back = Record(Lingering());
        Assert.That(back.Addresses, Is.EquivalentTo(Addresses(0, 2)));
        back.Dispose();
        timers.AdvanceBy(linger - TimeSpan.FromTicks(1));
        Assert.That(emulator.OpenWatchCount, Is.EqualTo(1), "still lingering");

        timers.AdvanceBy(TimeSpan.FromTicks(1));
        await emulator.WaitForOpenWatchesAsync(0, Timeout);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
            Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
        }

        // Gone for good: the next subscription starts a watch of its own.
        using var again = Record(Lingering());
        await again.WaitForAddressesAsync(Addresses(0, 2), Timeout);
        Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(2));
    }

    [Test]
    public async Task TwoApiServers_TwoWatches_EachItsOwnEndpoints()
    {
        await using var east = await StartAsync();
        await using var west = await StartAsync();
        east.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(1, Ip);
        west.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(3, Ip);

        using var eastRecorder = Record(Config(east));
        using var westRecorder = Record(Config(west));
        using var eastAgain = Record(Config(east));
        await eastRecorder.WaitForAddressesAsync(Addresses(0, 1), Timeout);
        await eastAgain.WaitForAddressesAsync(Addresses(0, 1), Timeout);
        await westRecorder.WaitForAddressesAsync(Addresses(0, 3), Timeout);
        await east.WaitForOpenWatchesAsync(1, Timeout);
        await west.WaitForOpenWatchesAsync(1, Timeout);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Count(east, RequestKind.List), Is.EqualTo(1));
            Assert.That(Count(east, RequestKind.Watch), Is.EqualTo(1));
            Assert.That(Count(west, RequestKind.List), Is.EqualTo(1));
            Assert.That(Count(west, RequestKind.Watch), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task UserClient_KeysByInstance()
    {
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080)).ScaleTo(1, Ip);
        using var client = emulator.CreateClient();
        using var other = emulator.CreateClient();

        using var a = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(emulator), client));
        using var b = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(emulator), client));
        using var c = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(emulator), other));
        foreach (var recorder in new[] { a, b, c }) await recorder.WaitForAddressesAsync(Addresses(0, 1), Timeout);

        await emulator.WaitForOpenWatchesAsync(2, Timeout);
        Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(2), "one per client instance");
    }

    [Test]
    public async Task Gone_OnTheSharedWatch_OneRelistForAll()
    {
        await using var emulator = await StartAsync();
        var service = emulator.AddService(Ns, Service, new EmulatedServicePort("grpc", 8080));
        service.ScaleTo(2, Ip);
        var recorders = Enumerable.Range(0, 5).Select(_ => Record(Config(emulator))).ToList();
        try
        {
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(Addresses(0, 2), Timeout);
            await emulator.WaitForOpenWatchesAsync(1, Timeout);

            emulator.ExpireNextWatch();
            emulator.DropAllWatches();
            await Eventually.That(() => Count(emulator, RequestKind.List) == 2 && emulator.OpenWatchCount == 1, Timeout, "a relist and a watch");
            service.ScaleTo(4, Ip);
            foreach (var recorder in recorders) await recorder.WaitForAddressesAsync(Addresses(0, 4), Timeout);

            using (Assert.EnterMultipleScope())
            {
                Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(2), "the first LIST and one relist");
                Assert.That(recorders.SelectMany(r => r.Violations), Is.Empty);
            }
        }
        finally
        {
            recorders.ForEach(r => r.Dispose());
        }
    }

    [Test]
    public async Task TenK8sChannels_OneService_OneListOneWatch()
    {
        var name = "shared-" + Guid.NewGuid().ToString("N")[..8];
        using var metrics = new InstrumentRecorder();
        await using var emulator = await StartAsync();
        emulator.AddService(Ns, name, new EmulatedServicePort("grpc", 8080)).ScaleTo(2, Ip);
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.ClientConfiguration = emulator.ClientConfiguration);
        await using var provider = services.BuildServiceProvider();
        using var stop = new CancellationTokenSource();
        var channels = Enumerable.Range(0, 10)
            .Select(_ => GrpcChannel.ForAddress($"k8s:///{name}.{Ns}:grpc", new GrpcChannelOptions { ServiceProvider = provider, Credentials = ChannelCredentials.Insecure }))
            .ToList();
        try
        {
            // Connecting starts each channel's resolver; nothing listens on the pods' addresses, which does not matter here.
            var connecting = channels.Select(c => c.ConnectAsync(stop.Token)).ToList();
            await Eventually.That(() => metrics.Sum("k8slb.resolver.updates", name) >= 10, Timeout, "every resolver published the endpoints");

            using (Assert.EnterMultipleScope())
            {
                Assert.That(Count(emulator, RequestKind.List), Is.EqualTo(1));
                Assert.That(Count(emulator, RequestKind.Watch), Is.EqualTo(1));
                // The one streaming list is a WATCH request, counted when it ends; nothing listed or relisted per channel.
                Assert.That(metrics.Sum("k8slb.api.requests", name, ("k8slb.api.verb", "list")), Is.Zero, "no LIST");
                Assert.That(metrics.Sum("k8slb.watch.relists", name), Is.Zero, "no relist");
            }

            await stop.CancelAsync();
            foreach (var task in connecting) await Task.WhenAny(task);
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }

    [Test]
    public void ApiIdentity_EqualValuesShare_AnyDifferenceSeparates()
    {
        static KubernetesClientConfiguration Make(string host = "https://10.0.0.1:6443", string token = "t") => new() { Host = host, AccessToken = token, Namespace = "ns" };
        var client = new Kubernetes(Make());
        var other = new Kubernetes(Make());
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(ApiIdentity.ForConfiguration(Make()), Is.EqualTo(ApiIdentity.ForConfiguration(Make())));
                Assert.That(ApiIdentity.ForConfiguration(Make()).GetHashCode(), Is.EqualTo(ApiIdentity.ForConfiguration(Make()).GetHashCode()));
                Assert.That(ApiIdentity.ForConfiguration(Make(host: "https://10.0.0.2:6443")), Is.Not.EqualTo(ApiIdentity.ForConfiguration(Make())));
                Assert.That(ApiIdentity.ForConfiguration(Make(token: "u")), Is.Not.EqualTo(ApiIdentity.ForConfiguration(Make())), "another identity");
                Assert.That(ApiIdentity.ForConfiguration(new KubernetesClientConfiguration { Host = "https://10.0.0.1:6443", AccessToken = "t" }), Is.Not.EqualTo(ApiIdentity.ForConfiguration(Make())), "another default namespace");
                Assert.That(ApiIdentity.ForClient(client), Is.EqualTo(ApiIdentity.ForClient(client)));
                Assert.That(ApiIdentity.ForClient(client), Is.Not.EqualTo(ApiIdentity.ForClient(other)));
                Assert.That(ApiIdentity.Ambient, Is.Not.EqualTo(ApiIdentity.ForConfiguration(Make())));
            }
        }
        finally
        {
            client.Dispose();
            other.Dispose();
        }
    }

    [Test]
    public void SharingKey_ProjectionSettingsShare_WatchSettingsSeparate()
    {
        var configuration = new KubernetesClientConfiguration { Host = "https://10.0.0.1:6443" };
        DiscoveryConfig Make(Action<DiscoveryConfig>? change = null, string port = "grpc", string? ns = "demo")
        {
            var config = new DiscoveryConfig(Service, port) { Namespace = ns, ClientConfiguration = configuration };
            change?.Invoke(config);
            return config;
        }

        var key = SharedWatchKey.Of(Make(), client: null);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(SharedWatchKey.Of(Make(port: "http", change: c => { c.Readiness = ReadinessPolicy.ReadyOnly; c.Debounce = TimeSpan.Zero; c.ReportHealth = true; }), null), Is.EqualTo(key));
            Assert.That(SharedWatchKey.Of(Make(ns: "other"), null), Is.Not.EqualTo(key));
            Assert.That(SharedWatchKey.Of(Make(c => c.WatchTimeout = TimeSpan.FromMinutes(1)), null), Is.Not.EqualTo(key));
            Assert.That(SharedWatchKey.Of(Make(c => c.IdleTimeout = TimeSpan.FromMinutes(1)), null), Is.Not.EqualTo(key));
            Assert.That(SharedWatchKey.Of(Make(c => c.ListPageSize = 10), null), Is.Not.EqualTo(key));
            Assert.That(SharedWatchKey.Of(Make(c => c.Backoff = new BackoffOptions(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30))), null), Is.Not.EqualTo(key));
            Assert.That(SharedWatchKey.Of(Make(c => c.Scheduler = System.Reactive.Concurrency.TaskPoolScheduler.Default), null), Is.Not.EqualTo(key));
        }
    }

    [Test]
    public void ClientPool_EqualConfigurationsShareOneClient_DisposedWithTheLastLease()
    {
        // A host of its own: the pool is process-wide.
        var host = $"https://pool-{Guid.NewGuid():N}.invalid:6443";
        var first = KubernetesClientPool.Acquire(ApiIdentity.ForConfiguration(new KubernetesClientConfiguration { Host = host, Namespace = "a" }));
        var second = KubernetesClientPool.Acquire(ApiIdentity.ForConfiguration(new KubernetesClientConfiguration { Host = host, Namespace = "a" }));
        var other = KubernetesClientPool.Acquire(ApiIdentity.ForConfiguration(new KubernetesClientConfiguration { Host = host, Namespace = "b" }));
        var client = (Kubernetes)first.Client;

        first.Release();
        first.Release();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(second.Client, Is.SameAs(client));
            Assert.That(other.Client, Is.Not.SameAs(client), "another default namespace, another identity");
            Assert.That(second.Namespace, Is.EqualTo("a"));
            Assert.That(client.HttpClient, Is.Not.Null, "still alive after one of two releases (a second release of one handle is ignored)");
        }

        second.Release();
        other.Release();
        Assert.That(client.HttpClient, Is.Null, "disposed with the last lease (KubernetesClient drops its HttpClient on disposal)");
    }

    private static Task<KubernetesApiEmulator> StartAsync() =>
        KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) });

    private static DiscoveryConfig Config(
        KubernetesApiEmulator emulator,
        string port = "grpc",
        ReadinessPolicy readiness = ReadinessPolicy.ReadyWithTerminatingFallback,
        System.Reactive.Concurrency.IScheduler? scheduler = null,
        CapturingLoggerFactory? logs = null) =>
        new(Service, port)
        {
            Namespace = Ns,
            ClientConfiguration = emulator.ClientConfiguration,
            Readiness = readiness,
            Debounce = TimeSpan.Zero,
            Scheduler = scheduler,
            LoggerFactory = logs,
            Backoff = new BackoffOptions(initial: TimeSpan.FromMilliseconds(20), maximum: TimeSpan.FromSeconds(1)),
            IdleTimeout = TimeSpan.FromSeconds(30),
        };

    private static EndpointSetRecorder Record(DiscoveryConfig config) => new(KubernetesDiscovery.Observe(config));

    /// <summary>
    /// Lists are LISTs and streaming lists (a WATCH with sendInitialEvents, the default against the emulator); watches are
    /// every WATCH request. A streaming list is both at once: one request that lists and then watches.
    /// </summary>
    private static int Count(KubernetesApiEmulator emulator, RequestKind kind) =>
        emulator.Requests.Count(r => r.Kind == kind || (kind == RequestKind.List && r.IsStreamingList));

    private static string Ip(int i) => $"10.1.0.{i + 1}";

    private static IEnumerable<string> Addresses(int from, int count, int port = 8080) =>
        Enumerable.Range(from, count).Select(i => $"{Ip(i)}:{port}");
}
