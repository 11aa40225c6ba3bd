using Reactive.K8sLb.Linq;
using System.Reactive.Linq;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// A synchronized empty set says why in the status message (and the log), so "no such port" or "no slices" do not
/// look like "healthy with 0 endpoints". In virtual time, through <see cref="SliceObservableExtensions.ToEndpointChanges"/>.
/// </summary>
public sealed class EmptySetStatusTests : ReactiveTest
{
    private static DiscoveryConfig Config(TestScheduler scheduler, CapturingLoggerFactory? logs = null) => new("greeter", "grpc")
    {
        Debounce = TimeSpan.FromTicks(50),
        MaxDebounceDelay = TimeSpan.FromTicks(200),
        DebounceLeadingEdge = false,
        Scheduler = scheduler,
        LoggerFactory = logs,
    };

    private static string?[] Messages(ITestableObserver<DiscoveryUpdate> observer) =>
        [.. observer.Messages.Select(m => m.Value.Value.Status.Message)];

    [Test]
    public void PortNameNoSliceDefines_StatusAndLogSaySo()
    {
        var scheduler = new TestScheduler();
        var logs = new CapturingLoggerFactory();
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([Slice("a", [Endpoint("10.0.0.1")], ports: [("http", 80)])])),
            OnNext(220, SliceEvent.Upserted(Slice("b", [Endpoint("10.0.0.2")], ports: [("http", 80)]))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler, logs)).Updates);

        Assert.That(Messages(observer), Is.EqualTo(new[] { "port 'grpc' not found in any EndpointSlice of Service 'greeter'" }));
        Assert.That(logs.Entries.Count(e => e.EventId.Id == 107), Is.EqualTo(1), "logged once, not per slice event");
    }

    [Test]
    public void EveryEndpointNotReady_StatusSaysNoReadyEndpoints()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(OnNext(210, SliceEvent.Reset([Slice("a", [Endpoint("10.0.0.1", ready: false)])])));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates);

        Assert.That(Messages(observer), Is.EqualTo(new[] { "no ready endpoints for Service 'greeter'" }));
    }

    [Test]
    public void LastEndpointRemoved_TheMessageRidesWithTheDebouncedBatch()
    {
        var scheduler = new TestScheduler();
        var source = scheduler.CreateHotObservable(
            OnNext(210, SliceEvent.Reset([Ready("a", "10.0.0.1")])),
            OnNext(300, SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1", ready: false)]))),
            OnNext(400, SliceEvent.Upserted(Ready("a", "10.0.0.1"))));

        var observer = scheduler.Start(() => source.ToEndpointChanges(Config(scheduler)).Updates.Select(u => $"{u.Changes.Count} {u.Status.Message}"));

        // The set empties at 300 and fills at 400: each change leaves after the quiet window, with its status.
        Assert.That(observer.Messages, Is.EqualTo(new[]
        {
            OnNext(210, "1 "),
            OnNext(350, "1 no ready endpoints for Service 'greeter'"),
            OnNext(450, "1 "),
        }));
    }
}
