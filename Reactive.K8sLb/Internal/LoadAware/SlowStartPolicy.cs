namespace Reactive.K8sLb.Internal.LoadAware;

/// <summary>
/// The validated snapshot of <see cref="SlowStartOptions"/>: Envoy's <c>slow_start_config</c>. An endpoint that became
/// ready less than <see cref="WindowTicks"/> ago has the weight factor
/// <c>max(MinWeight, (elapsed / window) ^ (1 / aggression))</c>, 1 afterwards.
/// </summary>
/// <param name="WindowTicks">The window, in <see cref="TimeSpan"/> ticks.</param>
/// <param name="Aggression">Envoy's aggression: 1 is linear, above 1 ramps faster at first.</param>
/// <param name="MinWeight">The smallest factor (0 to 1), so a new endpoint gets some calls from the start.</param>
internal sealed record SlowStartPolicy(long WindowTicks, double Aggression, double MinWeight)
{
    /// <summary>The validated policy, or <see langword="null"/> when slow start is off.</summary>
    public static SlowStartPolicy? From(SlowStartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled) return null;
        return new SlowStartPolicy(options.Window.Ticks, options.Aggression, options.MinWeightPercent / 100.0);
    }

    /// <summary>The weight factor of an endpoint ready since <paramref name="readySince"/>, at <paramref name="now"/>.</summary>
    public double FactorAt(long readySince, long now)
    {
        var elapsed = now - readySince;
        if (elapsed >= WindowTicks) return 1.0;
        if (elapsed <= 0) return MinWeight;
        var ramp = (double)elapsed / WindowTicks;
        if (Aggression != 1.0) ramp = Math.Pow(ramp, 1.0 / Aggression);
        return Math.Max(MinWeight, ramp);
    }
}
