namespace Reactive.K8sLb.Internal.HealthChecking;

/// <summary>The validated, immutable snapshot of <see cref="ActiveHealthCheckOptions"/> a balancer uses (only when enabled).</summary>
internal sealed record HealthCheckPolicy(string ServiceName, TimeSpan InitialBackoff, TimeSpan MaxBackoff)
{
    /// <summary>The policy of the options, or <see langword="null"/> when they turn health checking off.</summary>
    /// <exception cref="ArgumentException">The options break a rule.</exception>
    public static HealthCheckPolicy? From(ActiveHealthCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Enabled ? new HealthCheckPolicy(options.ServiceName, options.InitialBackoff, options.MaxBackoff) : null;
    }
}
