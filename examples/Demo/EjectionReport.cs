using System.Diagnostics;
using System.Globalization;

namespace Demo;

/// <summary>
/// What the failing pod's step measured. Every number comes from the calls the callers made (each names the pod that
/// answered it, in its reply or in the trailer of its failure) and from the library's ejection and readmission
/// counters, time-stamped when they were incremented: the endpoint is out of the picker from that moment, so a call
/// started after it that still reached the pod would show in <see cref="CallsWhileEjected"/>.
/// </summary>
/// <param name="Pod">The failing pod.</param>
/// <param name="Endpoint">Its address and port.</param>
/// <param name="Threshold">Consecutive failures that eject an endpoint.</param>
/// <param name="Callers">Concurrent callers: calls in flight when the pod is ejected may still fail.</param>
/// <param name="EjectionTime">The base ejection time.</param>
/// <param name="FaultLasted">How long the pod failed every call.</param>
/// <param name="FailedCalls">Every call the pod failed.</param>
/// <param name="FaultToEjection">From the fault to the ejection; <see langword="null"/> when it was not ejected.</param>
/// <param name="FailedBeforeEjection">Failed calls of the pod started before its ejection (those in flight included).</param>
/// <param name="Reason">The rule that ejected it (<c>k8slb.ejection.reason</c>).</param>
/// <param name="CallsWhileEjected">Calls started between its ejection and its readmission that reached it.</param>
/// <param name="EjectedFor">From the ejection to the readmission; <see langword="null"/> when not readmitted.</param>
/// <param name="ReadmissionToFirstCall">From the readmission to the start of the first call it served afterwards.</param>
internal sealed record EjectionReport(
    string Pod,
    string Endpoint,
    int Threshold,
    int Callers,
    TimeSpan EjectionTime,
    TimeSpan FaultLasted,
    int FailedCalls,
    TimeSpan? FaultToEjection,
    int FailedBeforeEjection,
    string? Reason,
    int CallsWhileEjected,
    TimeSpan? EjectedFor,
    TimeSpan? ReadmissionToFirstCall)
{
    public bool Ejected => FaultToEjection is not null;

    public bool Readmitted => EjectedFor is not null;

    /// <summary>Ejected within the threshold (plus the calls in flight), no call while ejected, no failed call after
    /// the ejection, readmitted.</summary>
    public bool Passed =>
        Ejected && FailedBeforeEjection <= Threshold + Callers && CallsWhileEjected == 0 && FailedCalls == FailedBeforeEjection && Readmitted;

    /// <summary>Measures the step from the calls and the counters, up to <paramref name="end"/> (Stopwatch ticks).</summary>
    public static EjectionReport Measure(
        FaultRecord fault, CallLoad load, DemoMetrics metrics, int port, int threshold, int callers, TimeSpan ejectionTime, long end)
    {
        var calls = load.CallsTo(fault.Pod);
        var ejectedAt = metrics.EjectionsOf(fault.Ip, port).Where(e => e.At >= fault.Started).Cast<EjectionEvent?>().FirstOrDefault();
        long? readmittedAt = ejectedAt is { } ejection
            ? metrics.ReadmissionsOf(fault.Ip, port).Where(t => t >= ejection.At).Cast<long?>().FirstOrDefault()
            : null;
        var ejectedUntil = readmittedAt ?? end;
        long? firstAfter = readmittedAt is { } readmitted
            ? calls.Where(c => c.Started >= readmitted && !c.Failed).Select(c => (long?)c.Started).FirstOrDefault()
            : null;
        return new EjectionReport(
            fault.Pod,
            string.Create(CultureInfo.InvariantCulture, $"{fault.Ip}:{port}"),
            threshold,
            callers,
            ejectionTime,
            Stopwatch.GetElapsedTime(fault.Started, fault.Ended),
            calls.Count(c => c.Failed),
            ejectedAt is { } e1 ? Stopwatch.GetElapsedTime(fault.Started, e1.At) : null,
            calls.Count(c => c.Failed && c.Started < (ejectedAt?.At ?? long.MaxValue)),
            ejectedAt?.Reason,
            ejectedAt is { } e2 ? calls.Count(c => c.Started >= e2.At && c.Started < ejectedUntil) : 0,
            ejectedAt is { } e3 && readmittedAt is { } r1 ? Stopwatch.GetElapsedTime(e3.At, r1) : null,
            readmittedAt is { } r2 && firstAfter is { } f ? Stopwatch.GetElapsedTime(r2, f) : null);
    }

    /// <summary>The summary's lines.</summary>
    public IEnumerable<string> Lines()
    {
        var lines = new List<string>
        {
            Format($"failing pod {Pod} ({Endpoint}), ready in Kubernetes throughout; ejection after {Threshold} consecutive failures, base ejection time {EjectionTime.TotalSeconds:0.###} s (--ejection-time; the library's default is 30 s):"),
        };
        if (FaultToEjection is not { } toEjection)
        {
            lines.Add(Format($"  NOT ejected: {FailedCalls} failed calls over the {FaultLasted.TotalMilliseconds:F0} ms it failed"));
            return lines;
        }

        lines.Add(Format($"  failed calls before its ejection: {FailedBeforeEjection} (at most {Threshold} + {Callers} in flight), ejected {toEjection.TotalMilliseconds:F1} ms after the fault began ({Reason})"));
        lines.Add(Format($"  calls that reached it while ejected: {CallsWhileEjected} (calls started between ejection and readmission, by the pod named in each answer); failed calls after its ejection: {FailedCalls - FailedBeforeEjection}"));
        var next = ReadmissionToFirstCall is { } first ? Format($"the next call it served started {first.TotalMilliseconds:F1} ms after the readmission") : "no call served since";
        lines.Add(EjectedFor is { } ejectedFor
            ? Format($"  readmitted {ejectedFor.TotalMilliseconds:F0} ms after its ejection (it had recovered {FaultLasted.TotalMilliseconds:F0} ms after the fault began); {next}")
            : "  NOT readmitted before the run ended");
        return lines;
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
