using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Picks the subchannels in turn; safe to call from many threads. Each pick counts for its endpoint
/// (<see cref="BalancerInstruments.Picks"/>) and returns the endpoint's cached pick result, which carries the endpoint
/// as call tracker while someone listens to <see cref="BalancerInstruments.Calls"/>: a pick allocates nothing.
/// <para>Topology (<see cref="TopologyDecision"/>) splits the endpoints into local ones and the others, each tier with
/// its own cycle. A call goes to the local tier, or, for the share of calls that spill over
/// (<see cref="TopologyMode.PreferLocal"/> with too few local endpoints), to the others; a tier whose endpoints are
/// all excluded passes the call to the other tier. Without topology there is one tier.</para>
/// <para>An endpoint that is excluded (<see cref="Ejection.EndpointHealth.IsExcluded"/>: ejected as an outlier, or not
/// serving) is skipped, read at every pick, so an ejection or a readmission takes effect at once without a new picker;
/// when every endpoint of the picker is excluded, the first tier is picked as if none were (calls keep somewhere to
/// go). A health call (<see cref="HealthChecking.HealthCheckRoute"/>) goes to the endpoint it names.</para>
/// </summary>
internal sealed class RoundRobinPicker : SubchannelPicker
{
    /// <summary>The scale of <see cref="_localPerMillion"/>.</summary>
    internal const int Million = 1_000_000;

    private readonly BalancerInstruments.Endpoint[] _local;
    private readonly BalancerInstruments.Endpoint[] _others;
    private readonly int _localPerMillion;
    private readonly Func<int, int> _random;
    private readonly LoadAware.SlowStartPolicy? _slowStart;
    private readonly Func<long>? _clock;
    private readonly LocalSpillReporter? _spill;
    private readonly bool _routesHealthChecks;
    private long _nextLocal;
    private long _nextOther;

    /// <summary>A picker with one tier.</summary>
    /// <param name="endpoints">The ready endpoints.</param>
    /// <param name="first">Where the cycle starts.</param>
    /// <param name="routesHealthChecks">Whether health calls (<see cref="HealthChecking.HealthCheckRoute"/>) go to the
    /// endpoint they name: one header lookup per pick, only when health checking is on.</param>
    public RoundRobinPicker(IReadOnlyList<BalancerInstruments.Endpoint> endpoints, int first, bool routesHealthChecks = false)
        : this(endpoints, first, [], 0, 1.0, Random.Shared.Next, spill: null, routesHealthChecks)
    {
    }

    /// <summary>A picker with a local tier and the others.</summary>
    /// <param name="local">The ready local endpoints (the only tier when <paramref name="others"/> is empty).</param>
    /// <param name="firstLocal">Where the local cycle starts.</param>
    /// <param name="others">The other ready endpoints.</param>
    /// <param name="firstOther">Where their cycle starts.</param>
    /// <param name="localShare">The share of calls that go to the local tier first (0 to 1); the rest go to the others first.</param>
    /// <param name="random">Picks an index below its argument (thread-safe); only used when the share is below 1.</param>
    /// <param name="spill">Told when every local endpoint is excluded and when one is usable again; may be <see langword="null"/>.</param>
    /// <param name="routesHealthChecks">See the other constructor.</param>
    /// <param name="slowStart">Slow start: an endpoint in its window is taken, when its turn comes, with a probability
    /// equal to its weight factor, else its turn passes; <see langword="null"/> for none.</param>
    /// <param name="clock">The time in <see cref="TimeSpan"/> ticks, for slow start.</param>
    public RoundRobinPicker(
        IReadOnlyList<BalancerInstruments.Endpoint> local,
        int firstLocal,
        IReadOnlyList<BalancerInstruments.Endpoint> others,
        int firstOther,
        double localShare,
        Func<int, int> random,
        LocalSpillReporter? spill,
        bool routesHealthChecks = false,
        LoadAware.SlowStartPolicy? slowStart = null,
        Func<long>? clock = null)
    {
        _slowStart = clock is null ? null : slowStart;
        _clock = clock;
        _local = [.. local];
        _others = [.. others];
        _localPerMillion = (int)Math.Round(Math.Clamp(localShare, 0, 1) * Million);
        _random = random;
        _spill = _others.Length > 0 ? spill : null;
        _routesHealthChecks = routesHealthChecks;
        _nextLocal = firstLocal - 1;
        _nextOther = firstOther - 1;
    }

    /// <summary>The endpoints, local tier first, each tier in cycle order (for tests).</summary>
    internal IReadOnlyList<BalancerInstruments.Endpoint> Endpoints => [.. _local, .. _others];

    /// <summary>The local tier (the only one without topology), for tests.</summary>
    internal IReadOnlyList<BalancerInstruments.Endpoint> LocalEndpoints => _local;

    /// <summary>The other tier, for tests.</summary>
    internal IReadOnlyList<BalancerInstruments.Endpoint> OtherEndpoints => _others;

    /// <summary>The share of calls sent to the local tier first, for tests.</summary>
    internal double LocalShare => _localPerMillion / (double)Million;

    /// <summary>The subchannels, local tier first (for tests).</summary>
    internal IReadOnlyList<Subchannel> Subchannels => Array.ConvertAll([.. _local, .. _others], e => e.Subchannel);

    public override PickResult Pick(PickContext context)
    {
        if (_routesHealthChecks && HealthChecking.HealthCheckRoute.TargetOf(context) is { } target) return HealthChecking.HealthCheckRoute.PickFor(target, _local, _others);
        if (_others.Length == 0)
        {
            return TryPick(_local, ref _nextLocal, out var only) ? only : PickAnyway(_local, ref _nextLocal);
        }

        // kube-proxy knows nothing of ejection; here a local tier that is partly excluded keeps only what its usable
        // endpoints can take (LocalTierHealth), and one that is wholly excluded sends every call to the others.
        var share = LocalTierHealth.Share(_localPerMillion, _local);
        if (share >= Million || (share > 0 && _random(Million) < share))
        {
            if (TryPick(_local, ref _nextLocal, out var local))
            {
                if (_spill is { IsSpilling: true } back) back.LocalUsable();
                return local;
            }
        }
        else if (share == 0)
        {
            if (TryPick(_others, ref _nextOther, out var spilled))
            {
                _spill?.LocalExcluded(_others.Length);
                return spilled;
            }
        }

        if (TryPick(_others, ref _nextOther, out var other)) return other;
        if (TryPick(_local, ref _nextLocal, out var fallback)) return fallback;

        return PickAnyway(_local, ref _nextLocal);
    }

    /// <summary>The next endpoint of the tier that is not excluded, moving the tier's shared position along so the
    /// others keep an even share.</summary>
    private bool TryPick(BalancerInstruments.Endpoint[] tier, ref long next, out PickResult result)
    {
        var count = (ulong)tier.Length;
        BalancerInstruments.Endpoint? passed = null;
        for (var tried = 0UL; tried < count; tried++)
        {
            var candidate = tier[(int)((ulong)Interlocked.Increment(ref next) % count)];
            if (candidate.Health.IsExcluded) continue;
            if (_slowStart is { } slow && !TakesItsTurn(slow, candidate))
            {
                passed ??= candidate;
                continue;
            }

            result = candidate.Pick();
            return true;
        }

        // Every usable endpoint is ramping up and let its turn pass: the first of them takes the call.
        if (passed is not null)
        {
            result = passed.Pick();
            return true;
        }

        result = null!;
        return false;
    }

    /// <summary>Slow start: an endpoint in its window takes its turn with a probability equal to its weight factor.</summary>
    private bool TakesItsTurn(LoadAware.SlowStartPolicy slow, BalancerInstruments.Endpoint endpoint)
    {
        var since = endpoint.ReadySince;
        if (since == BalancerInstruments.Endpoint.FullWeight) return true;
        var now = _clock!();
        if (now - since >= slow.WindowTicks) return true;
        return _random(Million) < slow.FactorAt(since, now) * Million;
    }

    /// <summary>Every endpoint is excluded: pick the tier's endpoints in turn anyway.</summary>
    private static PickResult PickAnyway(BalancerInstruments.Endpoint[] tier, ref long next) =>
        tier[(int)((ulong)Interlocked.Increment(ref next) % (ulong)tier.Length)].Pick();

    public override string ToString() => string.Join(", ", Endpoints.Select(e => e.Subchannel.ToString()));
}
