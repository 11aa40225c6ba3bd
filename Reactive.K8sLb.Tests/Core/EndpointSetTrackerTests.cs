using System.Net;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;
using static Reactive.K8sLb.Tests.Core.EndPoints;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>The diffing core, driven directly through <see cref="EndpointSetTracker.Apply"/>.</summary>
public sealed class EndpointSetTrackerTests
{
    private static DiscoveryConfig Config(ServicePort? port = null) => new("grpc-server", port ?? ServicePort.FromName("grpc"));

    // ---- The cases of tonic-lb-k8s's own unit tests ----

    [Test]
    public void Upsert_EmptySlice_NoChanges()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", []));

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Upsert_SliceWithNullEndpoints_NoChanges()
    {
        var harness = new Harness();
        var slice = Ready("a");
        slice.Endpoints = null;

        var changes = harness.Upsert(slice);

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Upsert_NumericPort_UsesNumberRegardlessOfSlicePorts()
    {
        var harness = new Harness(Config(ServicePort.FromNumber(9090)));

        var changes = harness.Upsert(Ready("a", "10.0.0.1"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1", 9090) }));
    }

    [Test]
    public void Upsert_NamedPort_UsesSlicesPortNumber()
    {
        var harness = new Harness(Config(ServicePort.FromName("grpc")));

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1")], ports: [("grpc", 50051)]));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1", 50051) }));
    }

    [Test]
    public void Upsert_NamedPortMissing_NoEndpoints()
    {
        var harness = new Harness(Config(ServicePort.FromName("grpc")));

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1")], ports: [("http", 80)]));

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Upsert_NamedPortMissingRepeatedly_WarnsOncePerSlice()
    {
        var harness = new Harness(Config(ServicePort.FromName("grpc")));
        var a = Slice("a", [Endpoint("10.0.0.1")], ports: [("http", 80)]);
        var b = Slice("b", [Endpoint("10.0.0.2")], ports: [(null, 80)]);

        harness.Upsert(a);
        harness.Upsert(a);
        harness.Upsert(b);
        harness.Apply(SliceEvent.Reset([a, b]));
        harness.Upsert(a);

        Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 103 && e.Level == LogLevel.Warning), Is.EqualTo(2));
    }

    [Test]
    public void Upsert_NamedPortMissingOnDeletedAndRecreatedSlice_WarnsAgain()
    {
        var harness = new Harness(Config(ServicePort.FromName("grpc")));
        var a = Slice("a", [Endpoint("10.0.0.1")], ports: [("http", 80)]);

        harness.Upsert(a);
        harness.Apply(SliceEvent.Deleted(a));
        harness.Upsert(a);

        Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 103), Is.EqualTo(2));
    }

    [Test]
    public void Upsert_NotReadyEndpoint_IsSkipped()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1"), Endpoint("10.0.0.2", ready: false)]));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1") }));
    }

    [Test]
    public void Upsert_ReadyNull_CountsAsReady()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1", ready: null)]));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1") }));
    }

    [Test]
    public void Upsert_ConditionsNull_CountsAsReady()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", [EndpointWithoutConditions("10.0.0.1")]));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1") }));
    }

    [TestCase("not-an-ip")]
    [TestCase("1.2")]
    [TestCase("0x7f.0.0.1")]
    [TestCase("10.0.0.256")]
    [TestCase("fd00::1")]
    [TestCase("")]
    public void Upsert_InvalidIPv4Address_IsSkippedWithWarning(string invalid)
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", [Endpoint(invalid), Endpoint("10.0.0.1")]));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1") }));
            Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 102), Is.EqualTo(1));
        }
    }

    [TestCase("010.000.000.001", "10.0.0.1")]
    [TestCase("10.0.0.09", "10.0.0.9")]
    public void Upsert_IPv4WithLeadingZeros_IsReadAsDecimalLikeKubernetes(string written, string meant)
    {
        var harness = new Harness();

        var changes = harness.Upsert(Ready("a", written));

        Assert.That(changes, Is.EqualTo(new[] { Insert(meant) }));
    }

    [TestCase("1.2.3.4.5")]
    [TestCase("1..2.3")]
    [TestCase("1.2.3.")]
    [TestCase("1.2.3.1000")]
    [TestCase("+1.2.3.4")]
    public void Upsert_MalformedDottedQuad_IsSkipped(string invalid)
    {
        var harness = new Harness();

        var changes = harness.Upsert(Ready("a", invalid));

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Upsert_IPv6Slice_YieldsIPv6EndPoints()
    {
        var harness = new Harness();

        var changes = harness.Upsert(ReadyV6("a", "fd00::1", "2001:db8::2"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("fd00::1"), Insert("2001:db8::2") }));
    }

    [Test]
    public void Upsert_IPv4AddressInIPv6Slice_IsSkipped()
    {
        var harness = new Harness();

        var changes = harness.Upsert(ReadyV6("a", "10.0.0.1", "fd00::1"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("fd00::1") }));
    }

    [Test]
    public void Upsert_DuplicateAddresses_AreMerged()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", [Endpoint(["10.0.0.1", "10.0.0.1"]), Endpoint("10.0.0.1"), Endpoint("10.0.0.2")]));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1"), Insert("10.0.0.2") }));
    }

    [Test]
    public void Upsert_MultiplePorts_PicksTheNamedOne()
    {
        var harness = new Harness(Config(ServicePort.FromName("grpc")));

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1")], ports: [("http", 80), ("grpc", 50051), ("metrics", 9090)]));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1", 50051) }));
    }

    [Test]
    public void Upsert_NamedPortMapsDifferentlyPerSlice_EachSliceUsesItsNumber()
    {
        var harness = new Harness(Config(ServicePort.FromName("grpc")));

        var first = harness.Upsert(Slice("a", [Endpoint("10.0.0.1")], ports: [("grpc", 8080)]));
        var second = harness.Upsert(Slice("b", [Endpoint("10.0.0.2")], ports: [("grpc", 9090)]));

        Assert.That(first.Concat(second), Is.EqualTo(new[] { Insert("10.0.0.1", 8080), Insert("10.0.0.2", 9090) }));
    }

    // ---- What tonic-lb-k8s gets wrong ----

    [Test]
    public void Upsert_ModifiedSliceDropsEndpoint_RemovesIt()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1", "10.0.0.2"));

        var changes = harness.Upsert(Ready("a", "10.0.0.2"));

        Assert.That(changes, Is.EqualTo(new[] { Remove("10.0.0.1") }));
    }

    [Test]
    public void Upsert_ModifiedSliceEndpointBecomesNotReady_RemovesIt()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1", "10.0.0.2"));

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1", ready: false), Endpoint("10.0.0.2")]));

        Assert.That(changes, Is.EqualTo(new[] { Remove("10.0.0.1") }));
    }

    [Test]
    public void Upsert_EndpointMovesBetweenSlices_NoChangeAtAll()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1", "10.0.0.2"));

        var addedToB = harness.Upsert(Ready("b", "10.0.0.2"));
        var removedFromA = harness.Upsert(Ready("a", "10.0.0.1"));

        Assert.That(addedToB.Concat(removedFromA), Is.Empty);
    }

    [Test]
    public void Delete_SliceSharingEndpointWithAnother_RemovesOnlyTheOthers()
    {
        var harness = new Harness();
        var a = Ready("a", "10.0.0.1", "10.0.0.2");
        harness.Upsert(a);
        harness.Upsert(Ready("b", "10.0.0.2", "10.0.0.3"));

        var changes = harness.Apply(SliceEvent.Deleted(a));

        Assert.That(changes, Is.EqualTo(new[] { Remove("10.0.0.1") }));
    }

    [Test]
    public void Delete_UsesStoredContentNotTheDeletedObjects()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1"));

        var changes = harness.Apply(SliceEvent.Deleted(Ready("a")));

        Assert.That(changes, Is.EqualTo(new[] { Remove("10.0.0.1") }));
    }

    [Test]
    public void Reset_SomeSlicesVanished_RemovesTheirEndpointsAndLeavesUnchangedAlone()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1", "10.0.0.2"));
        harness.Upsert(Ready("b", "10.0.0.3"));

        var changes = harness.Apply(SliceEvent.Reset([Ready("a", "10.0.0.2", "10.0.0.4")]));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changes, Is.EquivalentTo(new[] { Insert("10.0.0.4"), Remove("10.0.0.1"), Remove("10.0.0.3") }));
            Assert.That(changes[0], Is.EqualTo(Insert("10.0.0.4")), "inserts come first");
            Assert.That(harness.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.2:8080", "10.0.0.4:8080" }));
        }
    }

    [Test]
    public void Reset_SameSlicesAgain_NoChanges()
    {
        var harness = new Harness();
        harness.Apply(SliceEvent.Reset([Ready("a", "10.0.0.1"), Ready("b", "10.0.0.2")]));

        var changes = harness.Apply(SliceEvent.Reset([Ready("b", "10.0.0.2"), Ready("a", "10.0.0.1")]));

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Reset_First_MarksSynchronizedEvenWhenEmpty()
    {
        var harness = new Harness();
        var before = harness.Tracker.IsSynchronized;

        var changes = harness.Apply(SliceEvent.Reset([]));

        Assert.That((before, harness.Tracker.IsSynchronized, changes.Count), Is.EqualTo((false, true, 0)));
    }

    [Test]
    public void Upsert_DualStackWithPreferIPv4_CountsEachPodOnce()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Ready("v4", "10.0.0.1")).Concat(harness.Upsert(ReadyV6("v6", "fd00::1")));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1") }));
    }

    [Test]
    public void Upsert_IPv6FirstThenIPv4WithPreferIPv4_SwitchesFamily()
    {
        var harness = new Harness();
        harness.Upsert(ReadyV6("v6", "fd00::1"));

        var changes = harness.Upsert(Ready("v4", "10.0.0.1"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1"), Remove("fd00::1") }));
    }

    [Test]
    public void Delete_LastIPv4SliceWithPreferIPv4_FallsBackToIPv6()
    {
        var harness = new Harness();
        var v4 = Ready("v4", "10.0.0.1");
        harness.Upsert(v4);
        harness.Upsert(ReadyV6("v6", "fd00::1"));

        var changes = harness.Apply(SliceEvent.Deleted(v4));

        Assert.That(changes, Is.EqualTo(new[] { Insert("fd00::1"), Remove("10.0.0.1") }));
    }

    [Test]
    public void Upsert_DualStackWithAny_CountsBothFamilies()
    {
        var harness = new Harness(new DiscoveryConfig("svc", 8080) { AddressFamily = AddressFamilyPolicy.Any });

        var changes = harness.Upsert(Ready("v4", "10.0.0.1")).Concat(harness.Upsert(ReadyV6("v6", "fd00::1")));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1"), Insert("fd00::1") }));
    }

    [Test]
    public void Upsert_DualStackWithIPv6Only_TakesOnlyIPv6()
    {
        var harness = new Harness(new DiscoveryConfig("svc", 8080) { AddressFamily = AddressFamilyPolicy.IPv6Only });

        var changes = harness.Upsert(Ready("v4", "10.0.0.1")).Concat(harness.Upsert(ReadyV6("v6", "fd00::1")));

        Assert.That(changes, Is.EqualTo(new[] { Insert("fd00::1") }));
    }

    [Test]
    public void Upsert_IPv6SliceWithIPv4Only_TakesNothing()
    {
        var harness = new Harness(new DiscoveryConfig("svc", 8080) { AddressFamily = AddressFamilyPolicy.IPv4Only });

        var changes = harness.Upsert(ReadyV6("v6", "fd00::1")).Concat(harness.Upsert(Ready("v4", "10.0.0.1")));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.1") }));
    }

    [Test]
    public void Upsert_FqdnSlice_YieldsNormalizedDnsEndPoints()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("f", [Endpoint("Api.Example.COM."), Endpoint("10.0.0.1")], addressType: "FQDN"));

        Assert.That(changes, Is.EqualTo(new[] { Change.Insert(Dns("api.example.com")) }));
    }

    [Test]
    public void Upsert_UnknownAddressType_IsSkippedWithOneWarning()
    {
        var harness = new Harness();
        var slice = Slice("x", [Endpoint("10.0.0.1")], addressType: "IPv5");

        var changes = harness.Upsert(slice).Concat(harness.Upsert(slice));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changes, Is.Empty);
            Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 101), Is.EqualTo(1));
        }
    }

    [Test]
    public void Upsert_UnknownAddressTypeSlice_DoesNotHideIPv6UnderPreferIPv4()
    {
        var harness = new Harness();
        harness.Upsert(Slice("x", [Endpoint("10.0.0.1")], addressType: "IPv5"));

        var changes = harness.Upsert(ReadyV6("v6", "fd00::1"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("fd00::1") }));
    }

    [Test]
    public void Upsert_NoReadyEndpointInService_UsesServingTerminatingFallback()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1"));

        var changes = harness.Upsert(Slice("a", [Terminating("10.0.0.1"), Terminating("10.0.0.2"), Endpoint("10.0.0.3", ready: false, serving: false, terminating: true)]));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.2") }));
            Assert.That(harness.Set.Sorted(), Is.EqualTo(new[] { "10.0.0.1:8080", "10.0.0.2:8080" }));
            Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 106), Is.EqualTo(1));
        }
    }

    [Test]
    public void Reset_EmptyService_DoesNotClaimToUseTerminatingEndpoints()
    {
        var harness = new Harness();

        harness.Apply(SliceEvent.Reset([Ready("a")]));

        Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 106), Is.Zero);
    }

    [Test]
    public void Upsert_TerminatingOnlyIPv6Service_LogsFallbackOnce()
    {
        var harness = new Harness();
        harness.Apply(SliceEvent.Reset([ReadyV6("a")]));

        harness.Upsert(Slice("a", [Terminating("fd00::1")], "IPv6"));
        harness.Upsert(Slice("a", [Terminating("fd00::1"), Terminating("fd00::2")], "IPv6"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(harness.Set.Items.Count, Is.EqualTo(2));
            Assert.That(harness.Logs.Entries.Count(e => e.EventId.Id == 106), Is.EqualTo(1));
        }
    }

    [Test]
    public void Upsert_ReadyEndpointReturnsAfterFallback_SwitchesBackToReadyOnly()
    {
        var harness = new Harness();
        harness.Upsert(Slice("a", [Terminating("10.0.0.1"), Terminating("10.0.0.2")]));

        var changes = harness.Upsert(Ready("b", "10.0.0.3"));

        Assert.That(changes, Is.EquivalentTo(new[] { Insert("10.0.0.3"), Remove("10.0.0.1"), Remove("10.0.0.2") }));
    }

    [Test]
    public void Upsert_ServiceHasReadyEndpointElsewhere_TerminatingAreNotUsed()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1"));

        var changes = harness.Upsert(Slice("b", [Terminating("10.0.0.2")]));

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Upsert_ServingNullOnTerminatingNotReady_IsNotAFallback()
    {
        var harness = new Harness();

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.1", ready: false, serving: null, terminating: true)]));

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Upsert_ReadyOnlyAndNoReadyEndpoint_NeverUsesTerminating()
    {
        var harness = new Harness(new DiscoveryConfig("svc", 8080) { Readiness = ReadinessPolicy.ReadyOnly });
        harness.Upsert(Ready("a", "10.0.0.1"));

        var changes = harness.Upsert(Slice("a", [Terminating("10.0.0.1"), Terminating("10.0.0.2")]));

        Assert.That(changes, Is.EqualTo(new[] { Remove("10.0.0.1") }));
    }

    [Test]
    public void Upsert_ReadyInOneSliceNotReadyInAnother_IsIn()
    {
        var harness = new Harness();
        harness.Upsert(Slice("a", [Endpoint("10.0.0.1", ready: false)]));

        var changes = harness.Upsert(Ready("b", "10.0.0.1"));
        var afterNotReadyAgain = harness.Upsert(Slice("a", [Endpoint("10.0.0.1", ready: false)]));

        Assert.That(changes.Concat(afterNotReadyAgain), Is.EqualTo(new[] { Insert("10.0.0.1") }));
    }

    [Test]
    public void Upsert_SameNameNewUid_ReplacesEndpoints()
    {
        var harness = new Harness();
        harness.Upsert(Slice("a", [Endpoint("10.0.0.1")], uid: "uid-1"));

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.2")], uid: "uid-2"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.2"), Remove("10.0.0.1") }));
    }

    [Test]
    public void Upsert_SameNameInOtherNamespace_IsAnotherSlice()
    {
        var harness = new Harness();
        harness.Upsert(Slice("a", [Endpoint("10.0.0.1")], ns: "one"));

        var changes = harness.Upsert(Slice("a", [Endpoint("10.0.0.2")], ns: "two"));

        Assert.That(changes, Is.EqualTo(new[] { Insert("10.0.0.2") }));
    }

    [Test]
    public void Delete_UnknownSlice_IsNoOp()
    {
        var harness = new Harness();
        harness.Upsert(Ready("a", "10.0.0.1"));

        var changes = harness.Apply(SliceEvent.Deleted(Ready("zzz", "10.0.0.1")));

        Assert.That((changes.Count, harness.Set.Items.Count), Is.EqualTo((0, 1)));
    }

    [Test]
    public void Upsert_SliceWithoutName_IsIgnoredWithWarning()
    {
        var harness = new Harness();
        var slice = Ready("a", "10.0.0.1");
        slice.Metadata.Name = null;

        var changes = harness.Upsert(slice).Concat(harness.Apply(SliceEvent.Reset([slice])));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(changes, Is.Empty);
            Assert.That(harness.Logs.Entries.Any(e => e.EventId.Id == 104), Is.True);
        }
    }

    [Test]
    public void Upsert_SliceWithoutMetadata_IsIgnored()
    {
        var harness = new Harness();
        var slice = Ready("a", "10.0.0.1");
        slice.Metadata = null;

        var changes = harness.Upsert(slice);

        Assert.That(changes, Is.Empty);
    }

    [Test]
    public void Apply_Null_Throws()
    {
        var harness = new Harness();

        Assert.Throws<ArgumentNullException>(() => harness.Tracker.Apply(null!));
    }

    /// <summary>A tracker with a capturing logger; every change is validated and replayed onto a set.</summary>
    private sealed class Harness
    {
        public Harness(DiscoveryConfig? config = null)
        {
            Tracker = new EndpointSetTracker(config ?? Config(), Logs.CreateLogger("test"));
        }

        public CapturingLoggerFactory Logs { get; } = new();

        public EndpointSetTracker Tracker { get; }

        public ChangeSetValidator<EndPoint> Set { get; } = new();

        public IReadOnlyList<Change<EndPoint>> Apply(SliceEvent sliceEvent)
        {
            var changes = Tracker.Apply(sliceEvent).AsEndPointChanges();
            Set.Apply(changes);
            if (!Set.Items.SetEquals(Tracker.Current))
                throw new InvalidOperationException("The replayed set differs from the tracker's current set.");
            return changes;
        }

        public IReadOnlyList<Change<EndPoint>> Upsert(V1EndpointSlice slice) => Apply(SliceEvent.Upserted(slice));
    }
}
