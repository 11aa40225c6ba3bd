using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb;

/// <summary>
/// Selects the <c>peak_ewma</c> policy in a service config: Finagle's and Linkerd's load-aware balancing. Each pick
/// draws <see cref="ChoiceCount"/> ready endpoints at random and sends the call to the one with the lowest
/// <c>latency estimate × (calls in flight + 1)</c>. The estimate is a moving average of the endpoint's latency (call
/// start to response headers) that jumps to a new peak at once and decays with the time constant <see cref="Decay"/>
/// otherwise, and that decays towards 0 while the endpoint gets no calls, so an endpoint that was slow is tried again.
/// A new endpoint starts at <see cref="DefaultRtt"/>. Registered by <see cref="BalancedChannel"/> and
/// <c>AddKubernetesLoadBalancing</c> (<see cref="PeakEwmaBalancerFactory"/>); outlier ejection, health checking, topology
/// and slow start work as with <see cref="NewestFirstRoundRobinConfig"/>.
/// </summary>
public sealed class PeakEwmaConfig : BalancingPolicyConfig
{
    private const string ChoiceCountField = "choiceCount";
    private const string DecayField = "decay";
    private const string DefaultRttField = "defaultRtt";

    /// <summary>Creates the configuration: two choices, 10 s decay, 30 ms default RTT (Linkerd's values), outlier
    /// detection on.</summary>
    public PeakEwmaConfig()
        : base(PeakEwmaBalancerFactory.PolicyName)
    {
        Update(2, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(30));
    }

    /// <summary>How many endpoints each pick draws at random, 2 to 10, the first two distinct (as Finagle's and
    /// tower's p2c). The default value is 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 2 or above 10.</exception>
    public int ChoiceCount
    {
        get => (int)Settings[ChoiceCountField];
        set
        {
            if (value is < 2 or > 10) throw new ArgumentOutOfRangeException(nameof(ChoiceCount), value, "ChoiceCount must be 2 to 10.");
            Update(value, Decay, DefaultRtt);
        }
    }

    /// <summary>The time constant of the moving average: a latency observed <c>Decay</c> ago weighs <c>1/e</c> of one
    /// observed now. The default value is 10 seconds (Linkerd's). Shorter reacts faster to a pod that recovers, and
    /// forgets a slow pod sooner.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan Decay
    {
        get => (TimeSpan)Settings[DecayField];
        set
        {
            if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Decay), value, "Decay must be positive.");
            Update(ChoiceCount, value, DefaultRtt);
        }
    }

    /// <summary>The latency estimate of an endpoint before its first answer. The default value is 30 ms (Linkerd's), so a
    /// new endpoint does not look free before it has answered.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive (a new endpoint would cost nothing whatever its load
    /// until its first answer).</exception>
    public TimeSpan DefaultRtt
    {
        get => (TimeSpan)Settings[DefaultRttField];
        set
        {
            if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DefaultRtt), value, "DefaultRtt must be positive.");
            Update(ChoiceCount, Decay, value);
        }
    }

    private void Update(int choices, TimeSpan decay, TimeSpan defaultRtt)
    {
        Settings[ChoiceCountField] = choices;
        Settings[DecayField] = decay;
        Settings[DefaultRttField] = defaultRtt;
        Settings[PickingPolicyField] = new PickingPolicy(LoadMeasure.PeakEwma, choices, defaultRtt.Ticks, decay.Ticks);
    }
}
