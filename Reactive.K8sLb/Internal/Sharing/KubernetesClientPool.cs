using k8s;

namespace Reactive.K8sLb.Internal.Sharing;

/// <summary>
/// One Kubernetes client (and so one HTTP connection pool) per API server identity (<see cref="ApiIdentity"/>) in the
/// process, reference-counted by the leases that use it: created by the first, disposed when the last is released.
/// The client is built from the identity's own copy of the configuration (or, for the ambient identity, from the
/// in-cluster or kubeconfig settings resolved when it is created), so it always is a client for the identity it is
/// filed under.
/// <para>
/// The pool's lock only guards the table and the counts. Creating a client (resolving the ambient configuration may run
/// an exec credential plugin or read files) happens outside it, in a creation slot per identity: acquirers of the same
/// identity wait for that one creation, other identities are not held up, and a creation that throws fails the
/// acquirers waiting for it and is then forgotten, so the next acquisition tries again.
/// </para>
/// </summary>
internal static class KubernetesClientPool
{
    private static readonly object Gate = new();
    private static readonly Dictionary<ApiIdentity, Entry> Entries = [];

    /// <summary>The number of pooled clients alive (or being created). Internal for testing.</summary>
    internal static int Count
    {
        get
        {
            lock (Gate) return Entries.Count;
        }
    }

    /// <summary>The number of pooled clients alive (or being created) for identities that match. Internal for testing.</summary>
    internal static int CountWhere(Func<ApiIdentity, bool> predicate)
    {
        lock (Gate) return Entries.Keys.Count(predicate);
    }

    /// <summary>The references held (or being acquired) on the client for <paramref name="identity"/>. Internal for testing.</summary>
    internal static int References(ApiIdentity identity)
    {
        lock (Gate) return Entries.TryGetValue(identity, out var entry) ? entry.References : 0;
    }

    /// <summary>Takes a reference on the client for <paramref name="identity"/>, creating it when needed.</summary>
    /// <returns>The handle to release, exactly once.</returns>
    /// <exception cref="ArgumentException">The identity is a user's client (the pool builds none for it).</exception>
    /// <remarks>Throws what the creation throws (no configuration to be found, a bad one): the caller's retry reports it.</remarks>
    public static Handle Acquire(ApiIdentity identity)
    {
        if (identity.IsUsersClient) throw new ArgumentException("A client supplied by the user is not pooled.", nameof(identity));
        Entry entry;
        lock (Gate)
        {
            if (!Entries.TryGetValue(identity, out entry!))
            {
                entry = new Entry(identity);
                Entries.Add(identity, entry);
            }

            // Counted before the creation: a reference in flight keeps the entry (and a creation under way) in the table.
            entry.References++;
        }

        try
        {
            return new Handle(entry, entry.GetOrCreate());
        }
        catch
        {
            Release(entry);
            throw;
        }
    }

    private static void Release(Entry entry)
    {
        lock (Gate)
        {
            if (--entry.References > 0) return;
            Entries.Remove(entry.Identity);
        }

        // No creation can be under way: every creation is made by an acquirer holding a reference.
        entry.DisposeClient();
    }

    /// <summary>A client and the namespace of the configuration it was built from.</summary>
    internal sealed record Created(IKubernetes Client, string? Namespace);

    /// <summary>One identity's slot: its reference count (under the pool's lock) and its one creation.</summary>
    internal sealed class Entry
    {
        private Lazy<Created> _creation;

        public Entry(ApiIdentity identity)
        {
            Identity = identity;
            _creation = NewCreation();
        }

        public ApiIdentity Identity { get; }

        /// <summary>Leases holding (or acquiring) the client; guarded by the pool's lock.</summary>
        public int References { get; set; }

        /// <summary>The client, created by the first caller; the others wait for that creation and share its outcome.</summary>
        public Created GetOrCreate()
        {
            var creation = Volatile.Read(ref _creation);
            try
            {
                return creation.Value;
            }
            catch
            {
                // A Lazy keeps its exception: replaced, so that the next acquisition creates afresh.
                Interlocked.CompareExchange(ref _creation, NewCreation(), creation);
                throw;
            }
        }

        public void DisposeClient()
        {
            var creation = Volatile.Read(ref _creation);
            if (creation.IsValueCreated) creation.Value.Client.Dispose();
        }

        private Lazy<Created> NewCreation() => new(
            () =>
            {
                var configuration = Identity.ResolveConfiguration();
                return new Created(new Kubernetes(configuration, new WatchResponseHeadersHandler()), configuration.Namespace);
            },
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>One reference on a pooled client.</summary>
    internal sealed class Handle
    {
        private readonly Entry _entry;
        private readonly Created _created;
        private int _released;

        internal Handle(Entry entry, Created created)
        {
            _entry = entry;
            _created = created;
        }

        public IKubernetes Client => _created.Client;

        /// <summary>The namespace of the configuration the client was built from, if it names one.</summary>
        public string? Namespace => _created.Namespace;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) KubernetesClientPool.Release(_entry);
        }
    }
}
