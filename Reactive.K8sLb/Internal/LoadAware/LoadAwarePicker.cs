using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Reactive.K8sLb.Internal.Telemetry;
using Reactive.K8sLb.Internal.Topology;

namespace Reactive.K8sLb.Internal.LoadAware;

/// <summary>
/// Power of <c>choices</c> random choices (gRFC A48; Mitzenmacher's "power of two choices"): each pick draws that many
/// endpoints at random and takes the one with the lowest load (<see cref="LoadMeasure"/>; on a tie the first drawn, as
/// A48 says). <c>least_request</c> draws with replacement, as A48 specifies; <c>peak_ewma</c> makes its first two draws
/// distinct, as Finagle's and tower's p2c do. Safe to call from many threads; allocates nothing (the pick results come from each
/// endpoint's <see cref="LoadTrackerPool"/>).
/// <para>Composes like <see cref="RoundRobinPicker"/>: topology splits the endpoints into a local tier and the others
/// (with the share of calls that go to the local tier first), an excluded endpoint (ejected, not serving) drawn is
/// skipped, a tier whose draws are all excluded falls back to its cheapest usable endpoint and then to the other tier,
/// and when everything is excluded the local tier is used anyway. Slow start keeps a ramping endpoint in a draw with a
/// probability equal to its weight factor (<see cref="SlowStartPolicy"/>).</para>
/// </summary>
internal sealed class LoadAwarePicker : SubchannelPicker
{
    private readonly BalancerInstruments.Endpoint[] _local;
    private readonly BalancerInstruments.Endpoint[] _others;
    private readonly int _localPerMillion;
    private readonly LoadMeasure _measure;
    private readonly int _choices;
    private readonly Func<int, int> _random;
    private readonly Func<long> _clock;
    private readonly SlowStartPolicy? _slowStart;
    private readonly LocalSpillReporter? _spill;
    private readonly bool _routesHealthChecks;

    /// <param name="local">The ready local endpoints (all of them without topology); each must be under load tracking.</param>
    /// <param name="others">The other ready endpoints.</param>
    /// <param name="localShare">The share of calls that go to the local tier first.</param>
    /// <param name="measure">What is compared.</param>
    /// <param name="choices">How many endpoints each pick draws (at least 2).</param>
    /// <param name="random">Picks an index below its argument (thread-safe).</param>
    /// <param name="clock">The time in <see cref="TimeSpan"/> ticks.</param>
    /// <param name="slowStart">Slow start, or <see langword="null"/>.</param>
    /// <param name="spill">Told when every local endpoint is excluded and when one is usable again.</param>
    /// <param name="routesHealthChecks">Whether health calls go to the endpoint they name.</param>
    public LoadAwarePicker(
        IReadOnlyList<BalancerInstruments.Endpoint> local,
        IReadOnlyList<BalancerInstruments.Endpoint> others,
        double localShare,
        LoadMeasure measure,
        int choices,
        Func<int, int> random,
        Func<long> clock,
        SlowStartPolicy? slowStart,
        LocalSpillReporter? spill,
        bool routesHealthChecks)
    {
        _local = [.. local];
        _others = [.. others];
        _localPerMillion = (int)Math.Round(Math.Clamp(localShare, 0, 1) * RoundRobinPicker.Million);
        _measure = measure;
        _choices = Math.Max(2, choices);
        _random = random;
        _clock = clock;
        _slowStart = slowStart;
        _spill = _others.Length > 0 ? spill : null;
        _routesHealthChecks = routesHealthChecks;
    }

    /// <summary>The endpoints, local tier first (for tests).</summary>
    internal IReadOnlyList<BalancerInstruments.Endpoint> Endpoints => [.. _local, .. _others];

    /// <summary>The subchannels, local tier first (for tests).</summary>
    internal IReadOnlyList<Subchannel> Subchannels => Array.ConvertAll([.. _local, .. _others], e => e.Subchannel);

    public override PickResult Pick(PickContext context)
    {
        if (_routesHealthChecks && HealthChecking.HealthCheckRoute.TargetOf(context) is { } target) return HealthChecking.HealthCheckRoute.PickFor(target, _local, _others);
        // least_request reads no clock unless slow start needs it (a clock read costs as much as the rest of the pick).
        var now = _measure == LoadMeasure.PeakEwma || _slowStart is not null ? _clock() : 0;
        if (_others.Length == 0) return Choose(_local, now) ?? Anyway(now);

        var share = LocalTierHealth.Share(_localPerMillion, _local);
        if (share >= RoundRobinPicker.Million || (share > 0 && _random(RoundRobinPicker.Million) < share))
        {
            if (Choose(_local, now) is { } local)
            {
                if (_spill is { IsSpilling: true } back) back.LocalUsable();
                return local;
            }
        }
        else if (share == 0 && Choose(_others, now) is { } spilled)
        {
            _spill?.LocalExcluded(_others.Length);
            return spilled;
        }

        return (Choose(_others, now) ?? Choose(_local, now)) ?? Anyway(now);
    }

    /// <summary>The cheapest of <c>choices</c> random draws that are not excluded; if every draw is excluded, the
    /// cheapest usable endpoint of the tier; <see langword="null"/> when all of the tier is excluded.</summary>
    private PickResult? Choose(BalancerInstruments.Endpoint[] tier, long now)
    {
        BalancerInstruments.Endpoint? best = null;
        var bestCost = double.PositiveInfinity;
        var first = -1;
        for (var i = 0; i < _choices; i++)
        {
            int index;
            if (i == 1 && _measure == LoadMeasure.PeakEwma && tier.Length > 1)
            {
                // Peak EWMA draws two distinct endpoints (Finagle's and tower's p2c): a slow endpoint is then picked only
                // when it is cheaper than another, never because it was drawn twice.
                index = _random(tier.Length - 1);
                if (index >= first) index++;
            }
            else
            {
                index = _random(tier.Length);
            }

            if (i == 0) first = index;
            var candidate = tier[index];
            if (candidate.Health.IsExcluded || Ramping(candidate, now)) continue;
            var cost = Cost(candidate, now);
            if (cost < bestCost)
            {
                best = candidate;
                bestCost = cost;
            }
        }

        if (best is not null) return best.Pick(now);
        return Cheapest(tier, now, usableOnly: true)?.Pick(now);
    }

    /// <summary>The tier's endpoint with the lowest load, the excluded ones left out when <paramref name="usableOnly"/>;
    /// <see langword="null"/> when none is left.</summary>
    private BalancerInstruments.Endpoint? Cheapest(BalancerInstruments.Endpoint[] tier, long now, bool usableOnly)
    {
        BalancerInstruments.Endpoint? best = null;
        var bestCost = double.PositiveInfinity;
        foreach (var candidate in tier)
        {
            if (usableOnly && candidate.Health.IsExcluded) continue;
            var cost = Cost(candidate, now);
            if (best is null || cost < bestCost)
            {
                best = candidate;
                bestCost = cost;
            }
        }

        return best;
    }

    /// <summary>Every endpoint is excluded: the cheapest local one anyway (calls keep somewhere to go).</summary>
    private PickResult Anyway(long now) => Cheapest(_local, now, usableOnly: false)!.Pick(now);

    private double Cost(BalancerInstruments.Endpoint endpoint, long now)
    {
        var load = endpoint.Load!;
        return _measure == LoadMeasure.OutstandingCalls ? load.Outstanding : load.PeakEwmaCost(now);
    }

    /// <summary>
    /// Slow start: a drawn endpoint in its window stays in the draw with a probability equal to its weight factor, as
    /// round robin lets its turn pass. Dividing the weight into its load instead starves it under power-of-two choices,
    /// which is winner-take-all between two draws (measured: a new pod got no call for 2 s with peak_ewma).
    /// </summary>
    private bool Ramping(BalancerInstruments.Endpoint endpoint, long now)
    {
        if (_slowStart is not { } slow) return false;
        var since = endpoint.ReadySince;
        if (since == BalancerInstruments.Endpoint.FullWeight || now - since >= slow.WindowTicks) return false;
        return _random(RoundRobinPicker.Million) >= slow.FactorAt(since, now) * RoundRobinPicker.Million;
    }

    public override string ToString() => string.Join(", ", Endpoints.Select(e => e.Subchannel.ToString()));
}
