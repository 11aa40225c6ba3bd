using Reactive.K8sLb.Linq;
using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// Random slice histories checked against a naive model that recomputes the whole effective set from every current
/// slice after each event.
/// </summary>
public sealed class PropertyTests : ReactiveTest
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(200).WithQuietOnSuccess(true);

    private static readonly string[] Names = ["a", "b", "c"];

    private static readonly Dictionary<string, string[]> Pool = new()
    {
        ["IPv4"] = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "1.2"],
        ["IPv6"] = ["fd00::1", "fd00::2", "fd00::3"],
        ["FQDN"] = ["a.example", "b.example"],
    };

    [Test]
    public void SliceHistory_AnyEventSequence_ChangesReproduceTheModelAndFollowTheProtocol()
    {
        var property = Prop.ForAll(Arb.From(ScenarioGen()), scenario =>
        {
            var config = new DiscoveryConfig("svc", "grpc") { Debounce = TimeSpan.Zero, Readiness = scenario.Readiness, AddressFamily = scenario.Family };
            var tracker = new EndpointSetTracker(config, NullLogger.Instance);
            var trackerSet = new ChangeSetValidator<EndPoint>();
            var source = new Subject<SliceEvent>();
            var observer = new ValidatingUpdateObserver();
            using var subscription = source.ToEndpointChanges(config).Updates.Subscribe(observer);
            var model = new Dictionary<string, SliceSpec>();

            foreach (var op in scenario.Ops)
            {
                var sliceEvent = op.ToEvent();
                source.OnNext(sliceEvent);
                trackerSet.Apply(tracker.Apply(sliceEvent).AsEndPointChanges());
                op.ApplyTo(model);

                var expected = Model(model, scenario.Readiness, scenario.Family);
                if (!observer.Set.Items.SetEquals(expected) || !trackerSet.Items.SetEquals(expected))
                {
                    throw new InvalidOperationException(
                        $"After {op}: expected [{string.Join(", ", expected)}], pipeline has [{string.Join(", ", observer.Set.Sorted())}], tracker has [{string.Join(", ", trackerSet.Sorted())}].");
                }
            }

            return observer.Error is null;
        });

        Check.One(Runs, property);
    }

    [Test]
    public void SliceHistory_WithDebounce_EmitsValidChangesEndingInTheModelsSet()
    {
        var timed = from scenario in ScenarioGen()
                    from gaps in Gen.Choose(1, 120).ArrayOf(scenario.Ops.Length)
                    select (scenario, gaps);
        var property = Prop.ForAll(Arb.From(timed), input =>
        {
            var (scenario, gaps) = input;
            var scheduler = new TestScheduler();
            var config = new DiscoveryConfig("svc", "grpc")
            {
                Debounce = TimeSpan.FromTicks(50),
                MaxDebounceDelay = TimeSpan.FromTicks(200),
                Scheduler = scheduler,
                Readiness = scenario.Readiness,
                AddressFamily = scenario.Family,
            };
            var model = new Dictionary<string, SliceSpec>();
            var time = 200L;
            var events = new List<Recorded<System.Reactive.Notification<SliceEvent>>>();
            for (var i = 0; i < scenario.Ops.Length; i++)
            {
                time += gaps[i];
                events.Add(OnNext(time, scenario.Ops[i].ToEvent()));
                scenario.Ops[i].ApplyTo(model);
            }

            var observer = new ValidatingUpdateObserver();
            using var subscription = scheduler.CreateHotObservable(events.ToArray()).ToEndpointChanges(config).Updates.Subscribe(observer);
            scheduler.Start();

            return observer.Set.Items.SetEquals(Model(model, scenario.Readiness, scenario.Family));
        });

        Check.One(Runs, property);
    }

    [Test]
    public void DiffSnapshots_AnySnapshotSequence_ApplyingDiffsReproducesEachSnapshot()
    {
        var snapshots = Gen.Choose(0, 6).ArrayOf().Resize(6).NonEmptyListOf().Resize(8).Select(l => l.ToArray());
        var property = Prop.ForAll(Arb.From(snapshots), sequence =>
        {
            var source = new Subject<IReadOnlyCollection<int>>();
            var set = new ChangeSetValidator<int>();
            using var subscription = source.DiffSnapshots().Subscribe(set.Apply);
            foreach (var snapshot in sequence)
            {
                source.OnNext(snapshot);
                if (!set.Items.SetEquals(snapshot)) return false;
            }

            return true;
        });

        Check.One(Runs, property);
    }

    [Test]
    public void Debounce_AnyValidChangeStream_EmitsValidChangesEndingInTheSameSet()
    {
        // Each step toggles an item (Insert when absent, Remove when present) after a random gap.
        var steps = Gen.Choose(0, 4).SelectMany(item => Gen.Choose(1, 40).Select(gap => (Item: item, Gap: gap))).ListOf().Resize(25);
        var property = Prop.ForAll(Arb.From(steps), list =>
        {
            var scheduler = new TestScheduler();
            var present = new HashSet<int>();
            var time = 200L;
            var messages = new List<Recorded<System.Reactive.Notification<Change<int>>>>();
            foreach (var (item, gap) in list)
            {
                time += gap;
                messages.Add(OnNext(time, present.Add(item) ? Change.Insert(item) : Change.Remove(item)));
                if (messages[^1].Value.Value.Kind == ChangeKind.Remove) present.Remove(item);
            }

            var source = scheduler.CreateHotObservable(messages.ToArray());
            var output = new ChangeSetValidator<int>();
            using var subscription = source.Debounce(TimeSpan.FromTicks(20), TimeSpan.FromTicks(60), scheduler).Subscribe(output.Apply);
            scheduler.Start();

            return output.Items.SetEquals(present);
        });

        Check.One(Runs, property);
    }

    /// <summary>The effective set, computed from scratch the obvious way.</summary>
    private static HashSet<EndPoint> Model(Dictionary<string, SliceSpec> slices, ReadinessPolicy readiness, AddressFamilyPolicy family)
    {
        var anyV4 = slices.Values.Any(s => s.AddressType == "IPv4");
        string[] active = family switch
        {
            AddressFamilyPolicy.IPv4Only => ["IPv4"],
            AddressFamilyPolicy.IPv6Only => ["IPv6"],
            AddressFamilyPolicy.Any => ["IPv4", "IPv6", "FQDN"],
            _ => anyV4 ? ["IPv4"] : ["IPv6", "FQDN"],
        };

        var endpoints = slices.Values
            .Where(s => active.Contains(s.AddressType) && s.HasPort)
            .SelectMany(s => s.Endpoints.Where(e => e.Address != "1.2").Select(e => (s.AddressType, e)))
            .ToList();
        var ready = endpoints.Where(x => x.e.Ready ?? true).ToList();
        var fallback = endpoints.Where(x => !(x.e.Ready ?? true) && (x.e.Serving ?? false) && (x.e.Terminating ?? false)).ToList();
        var chosen = ready.Count > 0 || readiness == ReadinessPolicy.ReadyOnly ? ready : fallback;
        return chosen.Select(x => x.AddressType == "FQDN"
                ? (EndPoint)new DnsEndPoint(x.e.Address, 8080)
                : new IPEndPoint(IPAddress.Parse(x.e.Address), 8080))
            .ToHashSet();
    }

    private static Gen<Scenario> ScenarioGen() =>
        from readiness in Gen.Elements(ReadinessPolicy.ReadyWithTerminatingFallback, ReadinessPolicy.ReadyWithTerminatingFallback, ReadinessPolicy.ReadyOnly)
        from family in Gen.Elements(AddressFamilyPolicy.PreferIPv4, AddressFamilyPolicy.PreferIPv4, AddressFamilyPolicy.Any, AddressFamilyPolicy.IPv4Only, AddressFamilyPolicy.IPv6Only)
        from ops in OpGen().ListOf().Resize(12)
        select new Scenario(readiness, family, ops.ToArray());

    private static Gen<Op> OpGen() =>
        Gen.Frequency(
            (6, SliceGen().Select(s => new Op(SliceEventKind.Upserted, [s]))),
            (2, SliceGen().Select(s => new Op(SliceEventKind.Deleted, [s]))),
            (1, SliceGen().ArrayOf().Resize(3).Select(s => new Op(SliceEventKind.Reset, s.DistinctBy(x => x.Name).ToArray()))));

    private static Gen<SliceSpec> SliceGen() =>
        from name in Gen.Elements(Names)
        from type in Gen.Elements("IPv4", "IPv4", "IPv6", "FQDN")
        from hasPort in Gen.Frequency((5, Gen.Constant(true)), (1, Gen.Constant(false)))
        from endpoints in EndpointGen(type).ArrayOf().Resize(4)
        select new SliceSpec(name, type, hasPort, endpoints);

    private static Gen<EndpointSpec> EndpointGen(string type)
    {
        var condition = Gen.Elements<bool?>(true, false, null);
        return from address in Gen.Elements(Pool[type])
               from ready in condition
               from serving in condition
               from terminating in condition
               select new EndpointSpec(address, ready, serving, terminating);
    }

    private sealed record EndpointSpec(string Address, bool? Ready, bool? Serving, bool? Terminating)
    {
        public override string ToString() => $"{Address}(r={Ready},s={Serving},t={Terminating})";
    }

    private sealed record SliceSpec(string Name, string AddressType, bool HasPort, EndpointSpec[] Endpoints)
    {
        public V1EndpointSliceBuilder Build() => new(this);

        public override string ToString() => $"{Name}:{AddressType}{(HasPort ? string.Empty : "(no port)")}[{string.Join(" ", Endpoints.AsEnumerable())}]";
    }

    private sealed record V1EndpointSliceBuilder(SliceSpec Spec)
    {
        public k8s.Models.V1EndpointSlice Slice => Slices.Slice(
            Spec.Name,
            Spec.Endpoints.Select(e => Endpoint(e.Address, e.Ready, e.Serving, e.Terminating)),
            Spec.AddressType,
            Spec.HasPort ? [("grpc", 8080)] : [("http", 8080)]);
    }

    private sealed record Op(SliceEventKind Kind, SliceSpec[] Slices)
    {
        public SliceEvent ToEvent() => Kind switch
        {
            SliceEventKind.Upserted => SliceEvent.Upserted(Slices[0].Build().Slice),
            SliceEventKind.Deleted => SliceEvent.Deleted(Slices[0].Build().Slice),
            _ => SliceEvent.Reset(Slices.Select(s => s.Build().Slice)),
        };

        public void ApplyTo(Dictionary<string, SliceSpec> model)
        {
            switch (Kind)
            {
                case SliceEventKind.Upserted: model[Slices[0].Name] = Slices[0]; break;
                case SliceEventKind.Deleted: model.Remove(Slices[0].Name); break;
                default:
                    model.Clear();
                    foreach (var slice in Slices) model[slice.Name] = slice;
                    break;
            }
        }

        public override string ToString() => $"{Kind} {string.Join(", ", Slices.AsEnumerable())}";
    }

    private sealed record Scenario(ReadinessPolicy Readiness, AddressFamilyPolicy Family, Op[] Ops)
    {
        public override string ToString() => $"{Readiness}/{Family}: {string.Join(" ; ", Ops.AsEnumerable())}";
    }
}
