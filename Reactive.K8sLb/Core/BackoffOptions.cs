namespace Reactive.K8sLb;

/// <summary>
/// Exponential backoff for retries: the n-th consecutive retry waits about
/// <c>base = min(Maximum, Initial * Multiplier^(n-1))</c>, spread by ±<see cref="Jitter"/> and never above
/// <see cref="Maximum"/>; at the cap the spread stays below it, so clients that have all reached the cap do not retry
/// in step. The sequence starts over once the source has been healthy.
/// <para>
/// Kubernetes discovery adds one rule for fleets (<see cref="FirstRetryWindow"/>): the first retry after a healthy
/// watch (or a completed list) broke waits a uniformly random delay in <c>[0, FirstRetryWindow)</c> (full jitter, capped at
/// <see cref="Maximum"/>) instead of about <see cref="Initial"/>, so that clients broken at the same moment (an API server
/// restart) spread their reconnects over the window; the retries after it follow the exponential rule above, each
/// measured from the failure before it. <see cref="Linq.BackoffObservableExtensions.RetryWithBackoff{T}(IObservable{T}, BackoffOptions)"/>
/// does not use the window.
/// </para>
/// </summary>
public sealed record BackoffOptions
{
    /// <summary>The defaults: 250 ms initial, 30 s maximum, multiplier 2, jitter 0.2, reset after 60 s, first-retry window 1 s.</summary>
    public static BackoffOptions Default { get; } = new();

    /// <summary>Creates backoff options; every argument is validated here.</summary>
    /// <param name="initial">Delay before the first retry. Default 250 ms. Must not be negative.</param>
    /// <param name="maximum">Cap on any delay. Default 30 s. Must be at least <paramref name="initial"/>.</param>
    /// <param name="multiplier">Growth per consecutive retry. Default 2. Must be at least 1.</param>
    /// <param name="jitter">Relative spread, 0..1: a base delay d becomes a uniform value in
    /// [d*(1-jitter), min(maximum, d*(1+jitter))]. Default 0.2.</param>
    /// <param name="resetAfter">How long the source must stay subscribed without failing for the sequence to start
    /// over (it also starts over when the source emits a value). Default 60 s. Must be positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument breaks its rule; the message names it.</exception>
    public BackoffOptions(
        TimeSpan? initial = null,
        TimeSpan? maximum = null,
        double multiplier = 2.0,
        double jitter = 0.2,
        TimeSpan? resetAfter = null)
    {
        Initial = initial ?? TimeSpan.FromMilliseconds(250);
        Maximum = maximum ?? TimeSpan.FromSeconds(30);
        ResetAfter = resetAfter ?? TimeSpan.FromSeconds(60);
        Multiplier = multiplier;
        Jitter = jitter;

        if (Initial < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(initial), Initial, "Backoff.Initial must not be negative.");
        if (Maximum < Initial)
            throw new ArgumentOutOfRangeException(nameof(maximum), Maximum, $"Backoff.Maximum must be at least Backoff.Initial ({Initial}).");
        if (double.IsNaN(multiplier) || multiplier < 1.0)
            throw new ArgumentOutOfRangeException(nameof(multiplier), multiplier, "Backoff.Multiplier must be at least 1.");
        if (double.IsNaN(jitter) || jitter is < 0.0 or > 1.0)
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "Backoff.Jitter must be between 0 and 1.");
        if (ResetAfter <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(resetAfter), ResetAfter, "Backoff.ResetAfter must be positive.");
    }

    /// <summary>Delay before the first retry. The default value is 250 milliseconds.</summary>
    public TimeSpan Initial { get; }

    /// <summary>Cap on any delay. The default value is 30 seconds.</summary>
    public TimeSpan Maximum { get; }

    /// <summary>Growth factor per consecutive retry. The default value is 2.</summary>
    public double Multiplier { get; }

    /// <summary>Relative random spread of each delay, 0..1. The default value is 0.2.</summary>
    public double Jitter { get; }

    /// <summary>Healthy time after which the delay sequence starts over. The default value is 60 seconds.</summary>
    public TimeSpan ResetAfter { get; }

    /// <summary>
    /// The window over which Kubernetes discovery spreads its first retry after a healthy watch (or a completed list) broke: a uniformly
    /// random delay in <c>[0, FirstRetryWindow)</c>, capped at <see cref="Maximum"/>. <see cref="TimeSpan.Zero"/> turns
    /// the rule off (the first retry then waits about <see cref="Initial"/>, like a failure at startup). Must not be
    /// negative. The default value is 1 second.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan FirstRetryWindow
    {
        get => _firstRetryWindow;
        init => _firstRetryWindow = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(FirstRetryWindow), value, "Backoff.FirstRetryWindow must not be negative.");
    }

    private readonly TimeSpan _firstRetryWindow = TimeSpan.FromSeconds(1);

    /// <summary>The delay of the first retry after a healthy period (see <see cref="FirstRetryWindow"/>).</summary>
    /// <param name="random">A value in [0, 1) that picks the point in the window.</param>
    /// <returns>
    /// <c>min(FirstRetryWindow, Maximum) * random</c>, or <see cref="Delay(int, double)"/> of retry 1 when
    /// <see cref="FirstRetryWindow"/> is zero.
    /// </returns>
    public TimeSpan FirstRetryDelay(double random)
    {
        if (FirstRetryWindow == TimeSpan.Zero) return Delay(1, random);
        var window = FirstRetryWindow < Maximum ? FirstRetryWindow : Maximum;
        return TimeSpan.FromTicks((long)Math.Floor(window.Ticks * Math.Clamp(random, 0.0, 1.0)));
    }

    /// <summary>The delay for the given consecutive retry, before jitter.</summary>
    /// <param name="attempt">1 for the first retry.</param>
    /// <returns><c>min(Maximum, Initial * Multiplier^(attempt-1))</c>.</returns>
    public TimeSpan BaseDelay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var ticks = Initial.Ticks * Math.Pow(Multiplier, attempt - 1);
        return ticks >= Maximum.Ticks ? Maximum : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>The delay for the given retry with jitter applied.</summary>
    /// <param name="attempt">1 for the first retry.</param>
    /// <param name="random">A value in [0, 1) that picks the point in the range: 0 the lower end, values near 1 the
    /// upper end.</param>
    /// <returns>
    /// A delay uniformly spread over <c>[base*(1-Jitter), min(Maximum, base*(1+Jitter))]</c>, where base is
    /// <see cref="BaseDelay(int)"/>. The upper end is cut at <see cref="Maximum"/> rather than the value clamped to it,
    /// so once the base delay reaches the cap the delays still spread over <c>[Maximum*(1-Jitter), Maximum]</c>
    /// instead of half of all clients waiting exactly <see cref="Maximum"/>.
    /// </returns>
    public TimeSpan Delay(int attempt, double random)
    {
        var baseTicks = (double)BaseDelay(attempt).Ticks;
        var lower = baseTicks * (1.0 - Jitter);
        var upper = Math.Min(Maximum.Ticks, baseTicks * (1.0 + Jitter));
        var ticks = Math.Round(lower + ((upper - lower) * Math.Clamp(random, 0.0, 1.0)));
        return TimeSpan.FromTicks((long)Math.Clamp(ticks, 0.0, Maximum.Ticks));
    }
}
