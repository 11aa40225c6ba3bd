using k8s;

namespace Reactive.K8sLb.Internal.Sharing;

/// <summary>
/// One Kubernetes client (and so one HTTP connection pool) per API server identity (<see cref="ApiIdentity"/>) in the
/// process, reference-counted by the leases that use it: created by the first, disposed when the last is released.
/// The ambient configuration (in-cluster, else the default kubeconfig) is resolved when its client is created.
/// </summary>
internal static class KubernetesClientPool
{
    private static readonly object Gate = new();
    private static readonly Dictionary<ApiIdentity, Entry> Entries = [];

    /// <summary>The number of pooled clients alive. Internal for testing.</summary>
    internal static int Count
    {
        get
        {
            lock (Gate) return Entries.Count;
        }
    }

    /// <summary>Takes a reference on the client for <paramref name="configuration"/> (null: ambient), creating it when needed.</summary>
    /// <returns>The handle to release, exactly once.</returns>
    public static Handle Acquire(KubernetesClientConfiguration? configuration)
    {
        var identity = configuration is null ? ApiIdentity.Ambient : ApiIdentity.ForConfiguration(configuration);
        lock (Gate)
        {
            if (!Entries.TryGetValue(identity, out var entry))
            {
                // Throws when there is no configuration to be found: the caller's retry reports it.
                var resolved = configuration ?? (KubernetesClientConfiguration.IsInCluster()
                    ? KubernetesClientConfiguration.InClusterConfig()
                    : KubernetesClientConfiguration.BuildDefaultConfig());
                entry = new Entry(new Kubernetes(resolved, new WatchResponseHeadersHandler()), resolved.Namespace);
                Entries.Add(identity, entry);
            }

            entry.References++;
            return new Handle(identity, entry);
        }
    }

    private static void Release(ApiIdentity identity, Entry entry)
    {
        lock (Gate)
        {
            if (--entry.References > 0) return;
            Entries.Remove(identity);
        }

        entry.Client.Dispose();
    }

    internal sealed class Entry(IKubernetes client, string? @namespace)
    {
        public IKubernetes Client { get; } = client;

        public string? Namespace { get; } = @namespace;

        public int References { get; set; }
    }

    /// <summary>One reference on a pooled client.</summary>
    internal sealed class Handle
    {
        private readonly ApiIdentity _identity;
        private readonly Entry _entry;
        private int _released;

        internal Handle(ApiIdentity identity, Entry entry)
        {
            _identity = identity;
            _entry = entry;
        }

        public IKubernetes Client => _entry.Client;

        /// <summary>The namespace of the resolved configuration, if it names one.</summary>
        public string? Namespace => _entry.Namespace;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) KubernetesClientPool.Release(_identity, _entry);
        }
    }
}
