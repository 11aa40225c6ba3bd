using Grpc.Core;

namespace Reactive.K8sLb.Internal.Ejection;

/// <summary>
/// A validated, immutable snapshot of <see cref="OutlierDetectionOptions"/> (the options are mutable; the balancer must
/// not see them change under it). The failure statuses are a bit mask, so classifying a call is one shift.
/// </summary>
internal sealed record OutlierPolicy(
    int ConsecutiveFailures,
    TimeSpan Interval,
    int FailurePercentageThreshold,
    int MinimumRequestVolume,
    int MinimumHosts,
    TimeSpan BaseEjectionTime,
    TimeSpan MaxEjectionTime,
    int MaxEjectionPercent,
    int FailureMask)
{
    /// <summary>The defaults of <see cref="OutlierDetectionOptions"/>.</summary>
    public static OutlierPolicy Default { get; } = From(new OutlierDetectionOptions())!;

    /// <summary>Validates and copies the options; <see langword="null"/> when they are turned off.</summary>
    public static OutlierPolicy? From(OutlierDetectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!options.Enabled) return null;
        var mask = 0;
        foreach (var code in options.FailureStatusCodes) mask |= 1 << (int)code;
        return new OutlierPolicy(
            options.ConsecutiveFailures,
            options.Interval,
            options.FailurePercentageThreshold,
            options.MinimumRequestVolume,
            options.MinimumHosts,
            options.BaseEjectionTime,
            options.MaxEjectionTime,
            options.MaxEjectionPercent,
            mask);
    }

    /// <summary>What a call's final status means for its endpoint.</summary>
    /// <param name="code">The status the call ended with.</param>
    /// <param name="responseHeadersReceived">Whether the server answered (response headers arrived).</param>
    public CallOutcome Classify(StatusCode code, bool responseHeadersReceived)
    {
        // The caller's cancellation says nothing about the server; a deadline that expired after the server answered
        // (a slow stream, a slow client) neither.
        if (code == StatusCode.Cancelled) return CallOutcome.Ignored;
        if (code == StatusCode.DeadlineExceeded && responseHeadersReceived) return CallOutcome.Ignored;
        var bit = (uint)code < 32 ? 1 << (int)code : 0;
        return (FailureMask & bit) != 0 ? CallOutcome.Failure : CallOutcome.Success;
    }

    /// <summary>How long the n-th ejection lasts: base × n, at most max(base, max) (gRFC A50).</summary>
    public TimeSpan EjectionTime(int multiplier)
    {
        var cap = MaxEjectionTime > BaseEjectionTime ? MaxEjectionTime : BaseEjectionTime;
        var ticks = BaseEjectionTime.Ticks * (double)multiplier;
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>What a call's final status counts as.</summary>
internal enum CallOutcome
{
    /// <summary>Not counted at all (cancelled by the caller, or a deadline after the server answered).</summary>
    Ignored = 0,

    /// <summary>Counts as a call that did not fail.</summary>
    Success = 1,

    /// <summary>Counts as a failure of the endpoint.</summary>
    Failure = 2,
}
