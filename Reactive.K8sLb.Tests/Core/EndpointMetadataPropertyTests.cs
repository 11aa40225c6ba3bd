using System.Net;
using System.Reactive.Subjects;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Linq;
using static Reactive.K8sLb.Tests.Core.Slices;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>
/// Property tests of endpoint metadata, extending <see cref="PropertyTests"/>: random slice histories with zones and
/// conditions, checked against a model computed from scratch, and the debouncer's netting of updates.
/// </summary>
public sealed class EndpointMetadataPropertyTests : ReactiveTest
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(200).WithQuietOnSuccess(true);
    private static readonly string[] Names = ["a", "b", "c"];
    private static readonly string[] Addresses = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];

    [Test]
    public void SliceHistoryWithZones_EndpointChangesFollowTheProtocol_AndCarryTheModelsMetadata()
    {
        var property = Prop.ForAll(Arb.From(HistoryGen()), history =>
        {
            var source = new Subject<SliceEvent>();
            var config = new DiscoveryConfig("svc", "grpc") { Debounce = TimeSpan.Zero };
            var held = new Dictionary<EndPoint, KubernetesEndpoint>();
            using var subscription = source.ToEndpointChanges(config).Updates.Subscribe(update => ApplyValidated(held, update.EndpointChanges));
            var model = new Dictionary<string, Spec[]>();

            foreach (var (name, endpoints) in history)
            {
                if (endpoints is null)
                {
                    model.Remove(name);
                    source.OnNext(SliceEvent.Deleted(Build(name, [])));
                }
                else
                {
                    model[name] = endpoints;
                    source.OnNext(SliceEvent.Upserted(Build(name, endpoints)));
                }

                var expected = Model(model);
                var actual = held.Values.ToDictionary(e => e.EndPoint.ToString()!, e => (e.Zone, e.Ready, e.SliceName));
                if (!expected.OrderBy(x => x.Key).SequenceEqual(actual.OrderBy(x => x.Key)))
                {
                    throw new InvalidOperationException($"After {name}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}].");
                }
            }

            return true;
        });

        Check.One(Runs, property);
    }

    [Test]
    public void Debounce_AnyValidStreamWithUpdates_EmitsValidChangesEndingInTheSameValues()
    {
        // Each step changes an item: Insert when absent; Update (to a random version) or Remove when present.
        var steps = Gen.Choose(0, 3).SelectMany(item => Gen.Choose(0, 2).SelectMany(version => Gen.Choose(0, 2).SelectMany(action => Gen.Choose(1, 40).Select(gap => (Item: item, Version: version, Action: action, Gap: gap))))).ListOf().Resize(25);
        var property = Prop.ForAll(Arb.From(steps), list =>
        {
            var scheduler = new TestScheduler();
            var present = new Dictionary<int, Versioned>();
            var time = 200L;
            var messages = new List<Recorded<System.Reactive.Notification<Change<Versioned>>>>();
            foreach (var (item, version, action, gap) in list)
            {
                time += gap;
                var value = new Versioned(item, version);
                Change<Versioned> change;
                if (!present.TryGetValue(item, out var current)) change = Change.Insert(value);
                else if (action == 0) change = Change.Remove(current);
                else if (current != value) change = Change.Update(value);
                else continue;
                if (change.Kind == ChangeKind.Remove) present.Remove(item);
                else present[item] = value;
                messages.Add(OnNext(time, change));
            }

            var output = new Dictionary<int, Versioned>();
            using var subscription = scheduler.CreateHotObservable(messages.ToArray())
                .Debounce(TimeSpan.FromTicks(20), TimeSpan.FromTicks(60), scheduler, Versioned.ByItem)
                .Subscribe(change => ApplyValidated(output, [change], v => v.Item, strictUpdates: false));
            scheduler.Start();

            return output.OrderBy(x => x.Key).SequenceEqual(present.OrderBy(x => x.Key));
        });

        Check.One(Runs, property);
    }

    /// <summary>Applies changes, failing on any that breaks the protocol (DynamicData's ValidateChangeSets).</summary>
    private static void ApplyValidated(Dictionary<EndPoint, KubernetesEndpoint> held, IEnumerable<Change<KubernetesEndpoint>> changes) =>
        ApplyValidated(held, changes, e => e.EndPoint, strictUpdates: true);

    /// <param name="strictUpdates">Whether an Update must change the value. The debouncer cannot know the value a
    /// consumer holds when a batch starts with an Update, so a flap A→B→A within its window may net to an Update to A.</param>
    private static void ApplyValidated<TKey, T>(Dictionary<TKey, T> held, IEnumerable<Change<T>> changes, Func<T, TKey> key, bool strictUpdates)
        where TKey : notnull
        where T : notnull
    {
        foreach (var change in changes)
        {
            var k = key(change.Item);
            var ok = change.Kind switch
            {
                ChangeKind.Insert => held.TryAdd(k, change.Item),
                ChangeKind.Update => held.TryGetValue(k, out var old) && !(strictUpdates && Equals(old, change.Item)),
                _ => held.Remove(k),
            };
            if (!ok) throw new InvalidOperationException($"Invalid change {change} for [{string.Join(", ", held.Values)}].");
            if (change.Kind == ChangeKind.Update) held[k] = change.Item;
        }
    }

    /// <summary>The set with metadata, computed from scratch: ready endpoints (else the serving-and-terminating
    /// fallback), each described by its best listing (ready first), the first slice by name among equals.</summary>
    private static Dictionary<string, (string? Zone, bool Ready, string? SliceName)> Model(Dictionary<string, Spec[]> slices)
    {
        var listings = slices
            .SelectMany(s => s.Value.Where(e => e.Ready).DistinctBy(e => e.Address).Select(e => (Slice: s.Key, Spec: e))
                .Concat(s.Value.Where(e => !e.Ready && e.Terminating).DistinctBy(e => e.Address).Select(e => (Slice: s.Key, Spec: e))))
            .ToList();
        var anyReady = listings.Any(l => l.Spec.Ready);
        return listings
            .Where(l => l.Spec.Ready == anyReady)
            .GroupBy(l => l.Spec.Address)
            .ToDictionary(
                g => new IPEndPoint(IPAddress.Parse(g.Key), 8080).ToString(),
                g =>
                {
                    var best = g.OrderBy(l => l.Slice, StringComparer.Ordinal).First();
                    return (best.Spec.Zone, best.Spec.Ready, (string?)best.Slice);
                });
    }

    private static k8s.Models.V1EndpointSlice Build(string name, Spec[] endpoints) =>
        Slice(name, endpoints.Select(e =>
        {
            var endpoint = e.Ready ? Endpoint(e.Address) : e.Terminating ? Terminating(e.Address) : Endpoint(e.Address, ready: false);
            endpoint.Zone = e.Zone;
            return endpoint;
        }));

    private static Gen<(string Name, Spec[]? Endpoints)[]> HistoryGen()
    {
        var spec = from address in Gen.Elements(Addresses)
                   from zone in Gen.Elements<string?>("zone-a", "zone-b", null)
                   from state in Gen.Elements(0, 0, 1, 2)
                   select new Spec(address, zone, state == 0, state == 1);
        var step = from name in Gen.Elements(Names)
                   from delete in Gen.Frequency((1, Gen.Constant(true)), (5, Gen.Constant(false)))
                   from endpoints in spec.ArrayOf().Resize(4)
                   select (name, delete ? null : endpoints);
        return step.ArrayOf().Resize(15);
    }

    private sealed record Spec(string Address, string? Zone, bool Ready, bool Terminating)
    {
        public override string ToString() => $"{Address}({Zone},{(Ready ? "ready" : Terminating ? "terminating" : "not ready")})";
    }

    /// <summary>An item whose identity is <see cref="Item"/> and whose value also has a version.</summary>
    private sealed record Versioned(int Item, int Version)
    {
        public static IEqualityComparer<Versioned> ByItem { get; } = EqualityComparer<Versioned>.Create((a, b) => a?.Item == b?.Item, v => v.Item);
    }
}
