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
/// With <see cref="DiscoveryOptions.ShareWatch"/> (the default), the client comes from <see cref="KubernetesClientPool"/>:
/// one client per API server identity in the process, released (and disposed with its last lease) when this lease
/// ends. Without it, the lease creates and disposes a client of its own, as before sharing existed.
/// </para>
/// </summary>
internal sealed class KubernetesClientLease : IDisposable
{
    private readonly DiscoveryConfig _config;
    private readonly object _gate = new();
    private IKubernetes? _client;
    private bool _disposed;
    private string? _namespace;
    private bool _ownsClient;
    private KubernetesClientPool.Handle? _pooled;

    public KubernetesClientLease(DiscoveryConfig config, IKubernetes? client)
    {
        _config = config;
        _client = client;
        if (client is not null)
        {
            _namespace = config.Namespace ?? config.ClientConfiguration?.Namespace ?? "default";
        }
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
            _pooled?.Release();
        }
    }

    // Under the lock: a retry may be creating the client while the subscription is being disposed.
    private void EnsureCreated()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_client is not null) return;
            if (_config.ShareWatch)
            {
                var handle = KubernetesClientPool.Acquire(_config.ClientConfiguration);
                _pooled = handle;
                _namespace = _config.Namespace ?? handle.Namespace ?? "default";
                _client = handle.Client;
                return;
            }

            var configuration = _config.ClientConfiguration ?? (KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildDefaultConfig());
            _namespace = _config.Namespace ?? configuration.Namespace ?? "default";
            _client = new Kubernetes(configuration, new WatchResponseHeadersHandler());
            _ownsClient = true;
        }
    }
}
