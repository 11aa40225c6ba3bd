namespace Reactive.K8sLb;

/// <summary>
/// Slow start (Envoy's <c>slow_start_config</c>): an endpoint that has just become ready receives a growing share of the
/// calls over <see cref="Window"/> instead of its full share at once, so a pod with a cold JIT, empty caches or a pool
/// still filling is not flooded. Its weight factor is <c>max(MinWeightPercent / 100, (t / Window) ^ (1 / Aggression))</c>
/// where <c>t</c> is the time since its connection became ready: round robin lets its turn pass, and <c>least_request</c>
/// and <c>peak_ewma</c> leave it out of a draw, with probability <c>1 - factor</c>. Off by default.
/// <para>With the newest-first preference of <c>newest_first_round_robin</c>: a new endpoint in its window does not take
/// the next call ahead of the others (the two ask for opposite things; slow start wins when it is on). Only endpoints
/// that join a running set ramp up: the endpoints of the first address list start at full weight.</para>
/// Set through <see cref="BalancingPolicyConfig.SlowStart"/> of any of the library's policy configs.
/// </summary>
public sealed class SlowStartOptions
{
    private TimeSpan _window = TimeSpan.FromSeconds(30);
    private double _aggression = 1.0;
    private double _minWeightPercent = 10;

    /// <summary>Whether new endpoints ramp up. The default value is <see langword="false"/>.</summary>
    public bool Enabled { get; set; }

    /// <summary>How long the ramp lasts. The default value is 30 seconds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive.</exception>
    public TimeSpan Window
    {
        get => _window;
        set => _window = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Window), value, "Window must be positive.");
    }

    /// <summary>The shape of the ramp: 1 (the default) is linear; above 1 the weight grows faster at first, below 1
    /// slower (Envoy's <c>aggression</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not positive, or not a finite number.</exception>
    public double Aggression
    {
        get => _aggression;
        set => _aggression = double.IsFinite(value) && value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(Aggression), value, "Aggression must be a positive finite number.");
    }

    /// <summary>The smallest weight, in percent of the full weight, so a new endpoint gets some calls from its first
    /// moment (Envoy's <c>min_weight_percent</c>). The default value is 10.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not greater than 0 and at most 100.</exception>
    public double MinWeightPercent
    {
        get => _minWeightPercent;
        set => _minWeightPercent = value is > 0 and <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(MinWeightPercent), value, "MinWeightPercent must be greater than 0 and at most 100.");
    }
}
