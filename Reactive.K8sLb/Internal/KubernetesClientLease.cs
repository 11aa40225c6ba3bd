using k8s;
using Reactive.K8sLb.Internal.Sharing;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The client and namespace of one discovery subscription. Created without side effects; the client is built on
/// first use (inside the retry loop, so a missing kubeconfig is reported and retried, not thrown at subscribe) and
/// disposed with the subscription when this lease owns it. A client the lease creates has a
/// <see cref="WatchResponseHeadersHandler"/>, so the watcher learns that a watch is established when its headers arrive;
/// a client supplied by the user (<c>KubernetesDiscovery.Observe(config, client)</c>) has not, and there the first
/// line of the watch (an event or bookmark) is the first sign of a healthy watch.
/// <para>
/// The API server identity (<see cref="ApiIdentity"/>) is taken when the lease is made, with its own copy of the
/// configuration's values: the client is built from that copy, so a caller that changes its configuration object after
/// subscribing does not change (or split) what this subscription connects to. A shared watch hands its lease the copy
/// its sharing key was made with, so watch, key and client agree.
/// </para>
/// <para>
/// With <see cref="DiscoveryOptions.ShareWatch"/> (the default), the client comes from <see cref="KubernetesClientPool"/>:
/// one client per API server identity in the process, released (and disposed with its last lease) when this lease
/// ends. Without it, the lease creates and disposes a client of its own, as before sharing existed.
/// </para>
/// </summary>
internal sealed class KubernetesClientLease : IDisposable
{
    private readonly ApiIdentity _api;
    private readonly bool _pooled;
    private readonly string? _configuredNamespace;
    private readonly object _gate = new();
    private IKubernetes? _client;
    private bool _disposed;
    private string? _namespace;
    private bool _ownsClient;
    private KubernetesClientPool.Handle? _handle;

    public KubernetesClientLease(DiscoveryConfig config, IKubernetes? client)
        : this(ApiIdentity.Of(config, client), config.ShareWatch, config.Namespace)
    {
        _client = client;
        if (client is not null)
        {
            _namespace = config.Namespace ?? config.ClientConfiguration?.Namespace ?? "default";
        }
    }

    /// <summary>A lease that builds its client for <paramref name="api"/> (not a user's client). Internal for testing.</summary>
    internal KubernetesClientLease(ApiIdentity api, bool pooled, string? configuredNamespace)
    {
        _api = api;
        _pooled = pooled;
        _configuredNamespace = configuredNamespace;
    }

    public IKubernetes Client
    {
        get
        {
            EnsureCreated();
            return _client!;
        }
    }

    public string Namespace
    {
        get
        {
            EnsureCreated();
            return _namespace!;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            if (_ownsClient) _client?.Dispose();
            _handle?.Release();
        }
    }

    private void EnsureCreated()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_client is not null) return;
        }

        // Outside the lock (resolving the ambient configuration may take long, and disposal must not wait for it).
        KubernetesClientPool.Handle? handle = null;
        IKubernetes client;
        string? configurationNamespace;
        if (_pooled)
        {
            handle = KubernetesClientPool.Acquire(_api);
            client = handle.Client;
            configurationNamespace = handle.Namespace;
        }
        else
        {
            var configuration = _api.ResolveConfiguration();
            client = new Kubernetes(configuration, new WatchResponseHeadersHandler());
            configurationNamespace = configuration.Namespace;
        }

        lock (_gate)
        {
            if (!_disposed && _client is null)
            {
                _client = client;
                _namespace = _configuredNamespace ?? configurationNamespace ?? "default";
                _handle = handle;
                _ownsClient = handle is null;
                return;
            }
        }

        // Disposed meanwhile (or created by another caller): this client is not needed.
        if (handle is not null) handle.Release();
        else client.Dispose();
        lock (_gate) ObjectDisposedException.ThrowIf(_disposed, this);
    }
}
