using System.Net;
using System.Reactive.Linq;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Wraps a cold stream of updates; the plain change view flattens it. A subscriber's observer that throws is logged
/// and keeps its subscription: the exception must not travel back into the watch (where it would look like an API
/// failure, restart the watch and relist). Rx operators between us and that observer catch their own callbacks'
/// exceptions and pass them on as errors, which is the user's pipeline's business.
/// </summary>
internal sealed class DiscoveryObservable : IDiscoveryObservable
{
    private readonly IObservable<DiscoveryUpdate> _updates;
    private readonly ILogger _logger;

    public DiscoveryObservable(IObservable<DiscoveryUpdate> updates, ServiceScopedLoggerFactory loggerFactory)
    {
        _updates = updates;
        LoggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Reactive.K8sLb.Discovery");
        // Not Observable.Create: Rx's auto-detaching observer would dispose the watch when the subscriber throws,
        // before the guard below could catch it.
        Updates = new GuardedUpdates(this);
    }

    public IObservable<DiscoveryUpdate> Updates { get; }

    /// <summary>The source's loggers, scoped to its Service: what applies it logs in the same scope.</summary>
    internal ServiceScopedLoggerFactory LoggerFactory { get; }

    public IDisposable Subscribe(IObserver<Change<EndPoint>> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return _updates.SelectMany(update => update.Changes).Subscribe(ObserverGuard.Wrap(observer, _logger));
    }

    private sealed class GuardedUpdates(DiscoveryObservable owner) : IObservable<DiscoveryUpdate>
    {
        public IDisposable Subscribe(IObserver<DiscoveryUpdate> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            return owner._updates.Subscribe(ObserverGuard.Wrap(observer, owner._logger));
        }
    }
}
