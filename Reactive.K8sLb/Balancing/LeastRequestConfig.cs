using Reactive.K8sLb.Internal.LoadAware;

namespace Reactive.K8sLb;

/// <summary>
/// Selects the <c>least_request</c> policy (gRFC A48) in a service config: each pick draws <see cref="ChoiceCount"/>
/// ready endpoints at random and sends the call to the one with the fewest calls in flight. Calls in flight are counted
/// from the call's start to its response headers (or transport error), which is what grpc-dotnet lets a policy see; for
/// unary calls that is the whole call but the reading of the response body. Registered by
/// <see cref="BalancedChannel"/> and <c>AddKubernetesLoadBalancing</c> (<see cref="LeastRequestBalancerFactory"/>);
/// outlier ejection, health checking, topology and slow start work as with <see cref="NewestFirstRoundRobinConfig"/>.
/// </summary>
public sealed class LeastRequestConfig : BalancingPolicyConfig
{
    private const string ChoiceCountField = "choiceCount";

    /// <summary>Creates the configuration: two choices, outlier detection on.</summary>
    public LeastRequestConfig()
        : base(LeastRequestBalancerFactory.PolicyName)
    {
        ChoiceCount = 2;
    }

    /// <summary>How many endpoints each pick draws at random (with replacement), 2 to 10 as A48 allows. The default
    /// value is 2 (the "power of two choices").</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 2 or above 10.</exception>
    public int ChoiceCount
    {
        get => Settings.TryGetValue(ChoiceCountField, out var value) ? (int)value : 2;
        set
        {
            if (value is < 2 or > 10) throw new ArgumentOutOfRangeException(nameof(ChoiceCount), value, "ChoiceCount must be 2 to 10 (gRFC A48).");
            Settings[ChoiceCountField] = value;
            Settings[PickingPolicyField] = new PickingPolicy(LoadMeasure.OutstandingCalls, value, 0, TimeSpan.TicksPerSecond);
        }
    }
}
