using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Telemetry;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// <see cref="EndpointSetTracker.Counts"/>: every endpoint the slices list is counted once, as used (ready, or
/// serving_terminating while that fallback is in force) or left out with its reason, and kept up to date by each event.
/// </summary>
public sealed class EndpointCountsTests
{
    private static EndpointSetTracker Tracker(ServicePort? port = null, ReadinessPolicy readiness = ReadinessPolicy.ReadyWithTerminatingFallback, AddressFamilyPolicy family = AddressFamilyPolicy.PreferIPv4) =>
        new(new DiscoveryConfig("svc", port ?? ServicePort.FromName("grpc")) { Readiness = readiness, AddressFamily = family }, NullLogger.Instance);

    [Test]
    public void ReadyEndpoints_CountAsReady_AndNotReadyOnesAsNotReady()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Endpoint("10.0.0.2"), Endpoint("10.0.0.3", ready: false)])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(Ready: 2, ServingTerminating: 0, NotReady: 1, WrongFamily: 0, MissingPort: 0, BadAddress: 0)));
    }

    [Test]
    public void ServingTerminating_WhileAnotherIsReady_CountsAsNotReady()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Terminating("10.0.0.2")])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(1, 0, 1, 0, 0, 0)));
    }

    [Test]
    public void ServingTerminating_AsTheFallback_CountsAsServingTerminating()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Terminating("10.0.0.1"), Terminating("10.0.0.2"), Endpoint("10.0.0.3", ready: false)])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(0, 2, 1, 0, 0, 0)));
    }

    [Test]
    public void ServingTerminating_WithReadyOnlyPolicy_CountsAsNotReady()
    {
        var tracker = Tracker(readiness: ReadinessPolicy.ReadyOnly);

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Terminating("10.0.0.1")])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(0, 0, 1, 0, 0, 0)));
    }

    [Test]
    public void EndpointInTwoSlices_CountsOnce_InItsBestState()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Endpoint("10.0.0.2", ready: false)])));
        tracker.Apply(SliceEvent.Upserted(Slice("b", [Endpoint("10.0.0.1", ready: false), Endpoint("10.0.0.2", ready: false)])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(1, 0, 1, 0, 0, 0)));
    }

    [Test]
    public void IPv6Slice_WhileIPv4IsPreferred_CountsAsWrongFamily()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Ready("v4", "10.0.0.1")));
        tracker.Apply(SliceEvent.Upserted(Slice("v6", [Endpoint("fd00::1"), Endpoint("fd00::2", ready: false)], "IPv6")));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(1, 0, 0, WrongFamily: 2, 0, 0)));
    }

    [Test]
    public void UnknownAddressType_CountsAsWrongFamily()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("x", [Endpoint("whatever")], "AppleTalk")));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(0, 0, 0, WrongFamily: 1, 0, 0)));
    }

    [Test]
    public void SliceWithoutTheNamedPort_CountsItsEndpointsAsMissingPort()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Endpoint("10.0.0.2", ready: false)], ports: [("http", 80)])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(0, 0, 0, 0, MissingPort: 2, 0)));
    }

    [Test]
    public void EndpointWhoseAddressesDoNotParse_CountsAsBadAddress()
    {
        var tracker = Tracker();

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Endpoint(["010.0.0.300", "not-an-ip"]), Endpoint(["bogus", "10.0.0.2"])])));

        Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(Ready: 2, 0, 0, 0, 0, BadAddress: 1)));
    }

    [Test]
    public void EventsUpdateTheCounts_ReadinessFlipScaleDownAndDelete()
    {
        var tracker = Tracker();
        tracker.Apply(SliceEvent.Upserted(Ready("a", "10.0.0.1", "10.0.0.2", "10.0.0.3")));

        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Endpoint("10.0.0.2", ready: false), Endpoint("10.0.0.3")])));
        var afterFlip = tracker.Counts;
        tracker.Apply(SliceEvent.Upserted(Slice("a", [Endpoint("10.0.0.1"), Endpoint("10.0.0.2")])));
        var afterScaleDown = tracker.Counts;
        tracker.Apply(SliceEvent.Deleted(Ready("a")));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterFlip, Is.EqualTo(new EndpointCounts(2, 0, 1, 0, 0, 0)));
            Assert.That(afterScaleDown, Is.EqualTo(new EndpointCounts(2, 0, 0, 0, 0, 0)));
            Assert.That(tracker.Counts, Is.EqualTo(default(EndpointCounts)));
        }
    }

    [Test]
    public void ResetThatDropsTheLastReadyEndpoint_SwitchesToTheFallback()
    {
        var tracker = Tracker();
        tracker.Apply(SliceEvent.Reset([Slice("a", [Endpoint("10.0.0.1"), Terminating("10.0.0.2")])]));
        var before = tracker.Counts;

        tracker.Apply(SliceEvent.Reset([Slice("a", [Terminating("10.0.0.2")])]));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(before, Is.EqualTo(new EndpointCounts(1, 0, 1, 0, 0, 0)));
            Assert.That(tracker.Counts, Is.EqualTo(new EndpointCounts(0, 1, 0, 0, 0, 0)));
        }
    }

    [Test]
    public void Counts_AlwaysEqualANaiveRecount_OverARandomWalk()
    {
        var random = new Random(7);
        var tracker = Tracker();
        var slices = new Dictionary<string, k8s.Models.V1EndpointSlice>();
        for (var step = 0; step < 300; step++)
        {
            var name = "s" + random.Next(3);
            if (random.Next(5) == 0)
            {
                slices.Remove(name);
                tracker.Apply(SliceEvent.Deleted(Ready(name)));
            }
            else
            {
                var endpoints = Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(4) switch
                {
                    0 => Endpoint($"10.0.0.{random.Next(5)}", ready: false),
                    1 => Terminating($"10.0.0.{random.Next(5)}"),
                    _ => Endpoint($"10.0.0.{random.Next(5)}"),
                });
                slices[name] = Slice(name, endpoints);
                tracker.Apply(SliceEvent.Upserted(slices[name]));
            }

            Assert.That(tracker.Counts, Is.EqualTo(NaiveCount(slices.Values)), $"step {step}");
        }
    }

    /// <summary>The model: each address in its best state over all slices; fallback when nothing is ready.</summary>
    private static EndpointCounts NaiveCount(IEnumerable<k8s.Models.V1EndpointSlice> slices)
    {
        var best = new Dictionary<string, int>();
        foreach (var endpoint in slices.SelectMany(s => s.Endpoints))
        {
            var c = endpoint.Conditions;
            var state = c.Ready ?? true ? 0 : (c.Serving ?? false) && (c.Terminating ?? false) ? 1 : 2;
            var address = endpoint.Addresses[0];
            best[address] = Math.Min(best.GetValueOrDefault(address, 3), state);
        }

        var ready = best.Values.Count(v => v == 0);
        var fallback = best.Values.Count(v => v == 1);
        var notReady = best.Values.Count(v => v == 2);
        return ready > 0 ? new EndpointCounts(ready, 0, notReady + fallback, 0, 0, 0) : new EndpointCounts(0, fallback, notReady, 0, 0, 0);
    }
}
