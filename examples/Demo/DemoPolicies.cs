using Reactive.K8sLb;

namespace Demo;

/// <summary>The policies the demo can run with (<c>--policy</c>), by their service-config names.</summary>
internal static class DemoPolicies
{
    /// <summary>The library's default policy.</summary>
    public const string Default = NewestFirstRoundRobinBalancerFactory.PolicyName;

    /// <summary>Every name <c>--policy</c> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [NewestFirstRoundRobinBalancerFactory.PolicyName, LeastRequestBalancerFactory.PolicyName, PeakEwmaBalancerFactory.PolicyName];

    /// <summary>A fresh config of the named policy.</summary>
    public static BalancingPolicyConfig Create(string name) => name switch
    {
        LeastRequestBalancerFactory.PolicyName => new LeastRequestConfig(),
        PeakEwmaBalancerFactory.PolicyName => new PeakEwmaConfig(),
        _ => new NewestFirstRoundRobinConfig(),
    };
}
