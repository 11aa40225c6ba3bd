using System.Reactive.Concurrency;
using Microsoft.Extensions.Logging.Abstractions;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>A resolver must never publish on the thread that calls Refresh (the channel may hold its lock).</summary>
public sealed class ChangeSinkResolverSchedulerTests
{
    [Test]
    public void SynchronousSchedulers_AreRejected()
    {
        foreach (IScheduler scheduler in new IScheduler[] { ImmediateScheduler.Instance, CurrentThreadScheduler.Instance })
        {
            var error = Assert.Throws<ArgumentException>(() => _ = new ChangeSinkResolver("t", scheduler, null, NullLoggerFactory.Instance))!;
            Assert.That(error.ParamName, Is.EqualTo("scheduler"));
        }
    }
}
