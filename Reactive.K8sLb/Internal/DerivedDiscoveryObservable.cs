using System.Net;
using System.Reactive.Linq;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>A discovery source made from an update stream by a status-keeping operator.</summary>
/// <param name="updates">The derived updates.</param>
/// <param name="scope">The Service log scope of the source it derives from, when known.</param>
internal sealed class DerivedDiscoveryObservable(IObservable<DiscoveryUpdate> updates, ServiceLogScope? scope = null) : IDiscoveryObservable
{
    public IObservable<DiscoveryUpdate> Updates { get; } = updates;

    /// <summary>The Service log scope of the library's source this one derives from; <see langword="null"/> for another source.</summary>
    public ServiceLogScope? Scope { get; } = scope;

    public IDisposable Subscribe(IObserver<Change<EndPoint>> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return Updates.SelectMany(update => update.Changes).Subscribe(observer);
    }

    /// <summary>The Service log scope of a source, when it is one of the library's (or derives from one).</summary>
    public static ServiceLogScope? ScopeOf(IDiscoveryObservable source) => source switch
    {
        DiscoveryObservable own => own.LoggerFactory.Scope,
        DerivedDiscoveryObservable derived => derived.Scope,
        _ => null,
    };
}
