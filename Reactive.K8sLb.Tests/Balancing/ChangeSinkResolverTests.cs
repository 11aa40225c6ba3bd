using System.Collections.Concurrent;
using System.Net;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>Conflation, serialization and status handling of the push resolver, in virtual time.</summary>
public sealed class ChangeSinkResolverTests : ReactiveTest
{
    private static readonly DiscoveryStatus Connecting = DiscoveryStatus.Connecting;
    private static readonly DiscoveryStatus Synchronized = FakeDiscovery.Healthy;

    private TestScheduler _scheduler = null!;
    private ChangeSinkResolver _resolver = null!;
    private List<ResolverResult> _results = null!;

    [SetUp]
    public void SetUp()
    {
        _scheduler = new TestScheduler();
        _resolver = new ChangeSinkResolver("test", _scheduler, serviceConfig: null, NullLoggerFactory.Instance);
        _results = [];
    }

    [TearDown]
    public void TearDown() => _resolver.Dispose();

    private static BalancerAddress Address(int i) => new($"10.0.0.{i}", 8080);

    private static Change<BalancerAddress>[] Inserts(params int[] ids) => [.. ids.Select(i => Change.Insert(Address(i)))];

    private static string[] Hosts(ResolverResult result) => [.. result.Addresses!.Select(a => a.EndPoint.Host).Order()];

    /// <summary>The reason of each published failure (<see langword="null"/> for an address list).</summary>
    private AddressSetUnavailableReason?[] Reasons() =>
        [.. _results.Select(r => (r.Status.DebugException as AddressSetUnavailableException)?.Reason)];

    [Test]
    public void Apply_ManyChangesInOneUpdate_PublishesOnceWithTheFullSet()
    {
        _resolver.Start(_results.Add);

        _resolver.Apply(Inserts(1, 2, 3, 4, 5), Synchronized);
        _resolver.Apply([Change.Remove(Address(2)), Change.Insert(Address(6))], Synchronized);
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(1));
        Assert.That(Hosts(_results[0]), Is.EqualTo(new[] { "10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6" }));
    }

    [Test]
    public void Apply_WhilePublishing_PublishesAtMostTwiceAndTheLatestSetWins()
    {
        var depth = 0;
        var maxDepth = 0;
        _resolver.Start(result =>
        {
            maxDepth = Math.Max(maxDepth, ++depth);
            _results.Add(result);
            if (_results.Count == 1)
            {
                // Changes arriving while the listener runs: they must not re-enter it.
                _resolver.Apply(Inserts(2, 3), Synchronized);
                _resolver.Apply([Change.Remove(Address(1))], Synchronized);
                _resolver.Refresh();
            }

            depth--;
        });

        _resolver.Apply(Inserts(1), Synchronized);
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(2));
        Assert.That(maxDepth, Is.EqualTo(1));
        Assert.That(Hosts(_results[1]), Is.EqualTo(new[] { "10.0.0.2", "10.0.0.3" }));
    }

    [Test]
    public void Refresh_DoesNotCallTheListenerSynchronously_AndRepublishesTheCurrentSet()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1, 2), Synchronized);
        _scheduler.Start();

        _resolver.Refresh();
        Assert.That(_results, Has.Count.EqualTo(1));

        _scheduler.Start();
        Assert.That(_results, Has.Count.EqualTo(2));
        Assert.That(Hosts(_results[1]), Is.EqualTo(new[] { "10.0.0.1", "10.0.0.2" }));
    }

    [Test]
    public void Refresh_BeforeSynchronization_RepublishesOnlyTheWaitingResult()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1), Connecting);

        _resolver.Refresh();
        _scheduler.AdvanceBy(1);

        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.WaitingForFirstSnapshot }));
    }

    [Test]
    public void Failing_BeforeSynchronization_PublishesUnavailableWithTheMessage()
    {
        _resolver.Start(_results.Add);

        _resolver.Apply([], new DiscoveryStatus(DiscoveryHealth.Failing, false, "endpointslices is forbidden"));
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(1));
        Assert.That(_results[0].Status.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(_results[0].Status.Detail, Is.EqualTo("Kubernetes discovery failing: endpointslices is forbidden"));
    }

    [Test]
    public void Failing_ThenSynchronized_PublishesTheSet()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply([], new DiscoveryStatus(DiscoveryHealth.Failing, false, "down"));
        _scheduler.Start();

        _resolver.Apply(Inserts(1), Synchronized);
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(2));
        Assert.That(_results[1].Status.StatusCode, Is.EqualTo(StatusCode.OK));
        Assert.That(Hosts(_results[1]), Is.EqualTo(new[] { "10.0.0.1" }));
    }

    [Test]
    public void Failing_AfterSynchronization_PublishesNothingNew()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1), Synchronized);
        _scheduler.Start();

        _resolver.Apply([], new DiscoveryStatus(DiscoveryHealth.Failing, true, "watch failed"));
        _resolver.Fail(new InvalidOperationException("boom"));
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(1));
    }

    [Test]
    public void Synchronized_EmptySet_PublishesUnavailableWithTheStatusMessage()
    {
        _resolver.Start(_results.Add);

        _resolver.Apply([], Synchronized with { Message = "no ready endpoints for Service demo/greeter" });
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(1));
        Assert.That(_results[0].Status.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(_results[0].Status.Detail, Is.EqualTo("no ready endpoints for Service demo/greeter"));
        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.NoEndpoints }));
    }

    [Test]
    public void ChangesBeforeSynchronization_AreNotPublished_UntilSynchronized()
    {
        _resolver.Start(_results.Add);

        _resolver.Apply(Inserts(1, 2), Connecting);
        _scheduler.AdvanceBy(1);
        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.WaitingForFirstSnapshot }));

        _resolver.Apply(Inserts(3), Synchronized);
        _scheduler.Start();
        Assert.That(_results, Has.Count.EqualTo(2));
        Assert.That(Hosts(_results[1]), Is.EqualTo(new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3" }));
    }

    [Test]
    public void PlainChanges_FirstChange_Synchronizes()
    {
        _resolver.Start(_results.Add);

        _resolver.Apply(Inserts(1));
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(1));
        Assert.That(Hosts(_results[0]), Is.EqualTo(new[] { "10.0.0.1" }));
    }

    [Test]
    public void PlainChanges_ErrorBeforeFirstChange_PublishesUnavailable()
    {
        _resolver.Start(_results.Add);

        _resolver.Fail(new InvalidOperationException("source broke"));
        _scheduler.Start();

        Assert.That(_results.Single().Status.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(_results.Single().Status.Detail, Does.Contain("source broke"));
    }

    [Test]
    public void ChangesBeforeStart_ArePublishedWhenStarted()
    {
        _resolver.Apply(Inserts(1, 2), Synchronized);
        _scheduler.Start();

        _resolver.Start(_results.Add);
        Assert.That(_results, Is.Empty);
        _scheduler.Start();

        Assert.That(Hosts(_results.Single()), Is.EqualTo(new[] { "10.0.0.1", "10.0.0.2" }));
    }

    [Test]
    public void RedundantChanges_PublishNothing()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1), Synchronized);
        _scheduler.Start();

        _resolver.Apply(Inserts(1), Synchronized);
        _resolver.Apply([Change.Remove(Address(9))], Synchronized);
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(1));
    }

    [Test]
    public void Insert_SameEndPointWithNewAttributes_ReplacesTheAddress()
    {
        var key = new BalancerAttributesKey<string>("HostOverride");
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1), Synchronized);
        _scheduler.Start();

        var updated = Address(1);
        updated.Attributes.Set(key, "pod-1.greeter");
        _resolver.Apply([Change.Insert(updated)], Synchronized);
        _scheduler.Start();

        Assert.That(_results, Has.Count.EqualTo(2));
        Assert.That(_results[1].Addresses!.Single().Attributes.TryGetValue(key, out var host), Is.True);
        Assert.That(host, Is.EqualTo("pod-1.greeter"));
    }

    [Test]
    public void Remove_MatchesByEndPoint_NotByInstance()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1, 2), Synchronized);

        _resolver.Apply([Change.Remove(new BalancerAddress("10.0.0.1", 8080))], Synchronized);
        _scheduler.Start();

        Assert.That(Hosts(_results.Single()), Is.EqualTo(new[] { "10.0.0.2" }));
    }

    [Test]
    public void Dispose_PublishesOneFinalFailure_ThenNothing()
    {
        _resolver.Start(_results.Add);
        _resolver.Apply(Inserts(1), Synchronized);

        _resolver.Dispose();
        _scheduler.Start();

        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.Disposed }));
        Assert.That(_results.Single().Status.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public void Start_PublishesAtOnce_ThatCallsMayWaitForTheFirstSnapshot()
    {
        _resolver.Start(_results.Add);
        _scheduler.AdvanceBy(1);

        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.WaitingForFirstSnapshot }));
        Assert.That(_results[0].Status.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public void Start_WithAServiceConfig_FirstSelectsThePolicy_ThenSaysItIsWaiting()
    {
        var serviceConfig = new Grpc.Net.Client.Configuration.ServiceConfig { LoadBalancingConfigs = { new NewestFirstRoundRobinConfig() } };
        using var resolver = new ChangeSinkResolver("test", _scheduler, serviceConfig, NullLoggerFactory.Instance);

        resolver.Start(_results.Add);
        _scheduler.AdvanceBy(1);

        Assert.That(_results, Has.Count.EqualTo(2));
        Assert.That(_results[0].Addresses, Is.Empty);
        Assert.That(_results[0].ServiceConfig, Is.SameAs(serviceConfig));
        Assert.That(Reasons()[1], Is.EqualTo(AddressSetUnavailableReason.WaitingForFirstSnapshot));
    }

    [Test]
    public void NoSnapshotWithinTheWait_PublishesThatItIsOverdue_UntilTheSnapshotArrives()
    {
        _resolver.Start(_results.Add);
        _scheduler.AdvanceBy(ChangeSinkResolver.DefaultFirstSnapshotWait.Ticks - 1);
        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.WaitingForFirstSnapshot }));

        _scheduler.AdvanceBy(2);
        Assert.That(Reasons(), Is.EqualTo(new[] { AddressSetUnavailableReason.WaitingForFirstSnapshot, AddressSetUnavailableReason.FirstSnapshotOverdue }));
        Assert.That(_results[1].Status.Detail, Does.Contain("within 10 s"));

        _resolver.Apply(Inserts(1), Synchronized);
        _scheduler.AdvanceBy(1);
        Assert.That(Hosts(_results[2]), Is.EqualTo(new[] { "10.0.0.1" }));
    }

    [Test]
    public async Task Dispose_WhileTheListenerRuns_ReturnsOnlyAfterIt()
    {
        using var resolver = new ChangeSinkResolver("test", TaskPoolScheduler.Default, null, NullLoggerFactory.Instance);
        var calls = new ConcurrentQueue<string>();
        Task? dispose = null;
        resolver.Start(result =>
        {
            if (calls.IsEmpty)
            {
                calls.Enqueue("listener entered");
                dispose = Task.Run(resolver.Dispose);

                // Before the fence, Dispose returned at once while this publish was still going to reach the channel.
                if (SpinWait.SpinUntil(() => dispose.IsCompleted, TimeSpan.FromMilliseconds(300))) calls.Enqueue("dispose returned");
                calls.Enqueue("listener left");
                return;
            }

            calls.Enqueue("final " + (result.Status.DebugException as AddressSetUnavailableException)?.Reason);
        });

        await Eventually.That(() => dispose is { IsCompleted: true }, "Dispose returns");

        Assert.That(calls, Is.EqualTo(new[] { "listener entered", "listener left", "final Disposed" }));
    }

    [Test]
    public async Task ListenerCalls_AreSerialized_UnderConcurrentApplies()
    {
        using var resolver = new ChangeSinkResolver("test", TaskPoolScheduler.Default, null, NullLoggerFactory.Instance);
        var inListener = 0;
        var overlaps = 0;
        var calls = 0;
        IReadOnlyList<BalancerAddress>? last = null;
        resolver.Start(result =>
        {
            if (Interlocked.Increment(ref inListener) != 1) Interlocked.Increment(ref overlaps);
            Interlocked.Increment(ref calls);
            Volatile.Write(ref last, result.Addresses);
            Thread.Yield();
            Interlocked.Decrement(ref inListener);
        });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                resolver.Apply([Change.Insert(new BalancerAddress($"10.{worker}.{i / 256}.{i % 256}", 80))], Synchronized);
                if (i % 50 == 0) resolver.Refresh();
            }
        })));

        await Eventually.That(() => Volatile.Read(ref last)?.Count == 2000, "the last publish holds all 2000 addresses");
        Assert.That(overlaps, Is.Zero);
        Assert.That(calls, Is.LessThan(2000 + 40), "bursts are conflated");
        TestContext.Out.WriteLine($"2000 applies + 40 refreshes from 4 threads -> {calls} listener calls");
    }
}
