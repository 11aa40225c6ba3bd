extern alias demo;

using demo::Demo;

namespace Reactive.K8sLb.Tests.Examples;

/// <summary>
/// The demo's story against the emulator, shortened: its failing pod (every call Unavailable while Kubernetes lists it
/// ready) is ejected within the consecutive-failure threshold, gets no call while ejected and is readmitted after the
/// ejection time. The numbers are the summary's, measured by the demo from the calls and the library's counters.
/// </summary>
[NonParallelizable]
public sealed class DemoEmulatorRunTests
{
    private const int ConsecutiveFailures = 5; // OutlierDetectionOptions' default, which the demo keeps.

    [Test]
    public async Task FailingPod_EjectedWithinTheThreshold_NoCallWhileEjected_Readmitted()
    {
        var options = new DemoOptions
        {
            Duration = TimeSpan.FromSeconds(4),
            Pods = 3,
            Callers = 4,
            EjectionTime = TimeSpan.FromSeconds(1),
            NoUi = true,
        };

        var result = await EmulatorRun.RunMeasuredAsync(options, CancellationToken.None);

        Assert.That(result.Ejection, Is.Not.Null, "the failing pod's step was played");
        var report = result.Ejection!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Reason, Is.EqualTo("consecutive_failures"));
            Assert.That(report.FailedBeforeEjection, Is.InRange(ConsecutiveFailures, ConsecutiveFailures + options.Callers), "failed calls before the ejection: the threshold, plus calls in flight");
            Assert.That(report.CallsWhileEjected, Is.Zero, "calls started while ejected that reached the pod");
            Assert.That(report.FailedCalls, Is.EqualTo(report.FailedBeforeEjection), "no failed call started after the ejection");
            Assert.That(report.EjectedFor, Is.Not.Null.And.GreaterThanOrEqualTo(options.EjectionTime - TimeSpan.FromMilliseconds(100)), "readmitted after the ejection time");
            Assert.That(report.ReadmissionToFirstCall, Is.Not.Null, "calls reach the pod again after its readmission");
            Assert.That(report.Passed, Is.True);
        }
    }
}
