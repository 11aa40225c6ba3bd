using k8s;
using k8s.Exceptions;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Sharing;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Discovery;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Fleet;

/// <summary>
/// The process-wide client pool (<see cref="KubernetesClientPool"/>) and the API identity it files clients under
/// (<see cref="ApiIdentity"/>): a slow creation (the ambient configuration may run an exec credential plugin) holds up
/// only the acquirers of its own identity; a failed creation is not kept; references stay exact under races; and a
/// client is always built from the values of the identity it is filed under, whatever the caller does to its
/// configuration object afterwards. Slow and failing creations use identities resolved by the test
/// (<see cref="ApiIdentity.Resolved"/>), which take the ambient identity's code path.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public sealed class ClientPoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Test]
    public async Task SlowCreation_OfOneIdentity_DoesNotHoldUpAnotherIdentity()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // Held longer than the test waits: if the other acquisition waited for it, the test times out first.
        var slow = ApiIdentity.Resolved(() =>
        {
            entered.Set();
            release.Wait(Timeout * 2);
            return new KubernetesClientConfiguration { Host = UniqueHost() };
        });
        var slowAcquisition = OnThread(() => KubernetesClientPool.Acquire(slow));
        try
        {
            await Eventually.That(() => entered.IsSet, Timeout, "the slow creation started");

            var other = await OnThread(() => KubernetesClientPool.Acquire(ApiIdentity.ForConfiguration(new KubernetesClientConfiguration { Host = UniqueHost() })))
                .WaitAsync(Timeout);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(other.Client, Is.Not.Null);
                Assert.That(slowAcquisition.IsCompleted, Is.False, "the slow creation is still under way");
            }

            other.Release();
        }
        finally
        {
            release.Set();
        }

        (await slowAcquisition.WaitAsync(Timeout)).Release();
        Assert.That(KubernetesClientPool.References(slow), Is.Zero);
    }

    [Test]
    public async Task SameIdentity_ConcurrentAcquirers_WaitForOneCreation_AndShareItsClient()
    {
        const int Acquirers = 8;
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var creations = 0;
        var identity = ApiIdentity.Resolved(() =>
        {
            Interlocked.Increment(ref creations);
            entered.Set();
            release.Wait(Timeout * 2);
            return new KubernetesClientConfiguration { Host = UniqueHost(), Namespace = "pooled" };
        });

        var acquisitions = Enumerable.Range(0, Acquirers).Select(_ => OnThread(() => KubernetesClientPool.Acquire(identity))).ToList();
        await Eventually.That(() => entered.IsSet && KubernetesClientPool.References(identity) == Acquirers, Timeout, "every acquirer waits for the one creation");
        release.Set();
        var handles = await Task.WhenAll(acquisitions).WaitAsync(Timeout);
        var client = (Kubernetes)handles[0].Client;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(creations, Is.EqualTo(1));
            Assert.That(handles.Select(h => h.Client), Has.All.SameAs(client));
            Assert.That(handles.Select(h => h.Namespace), Has.All.EqualTo("pooled"));
        }

        foreach (var handle in handles.Skip(1)) handle.Release();
        Assert.That(client.HttpClient, Is.Not.Null, "one reference left");
        handles[0].Release();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.HttpClient, Is.Null, "disposed with the last reference");
            Assert.That(KubernetesClientPool.CountWhere(i => i.Equals(identity)), Is.Zero);
        }
    }

    [Test]
    public async Task FailedCreation_FailsTheAcquirersWaitingForIt_IsNotKept_AndTheNextAcquisitionCreatesAgain()
    {
        const int Acquirers = 4;
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var attempts = 0;
        var identity = ApiIdentity.Resolved(() =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                entered.Set();
                release.Wait(Timeout * 2);
                throw new KubeConfigException("kubeconfig not found");
            }

            return new KubernetesClientConfiguration { Host = UniqueHost() };
        });

        var failing = Enumerable.Range(0, Acquirers).Select(_ => OnThread(() => KubernetesClientPool.Acquire(identity))).ToList();
        await Eventually.That(() => entered.IsSet && KubernetesClientPool.References(identity) == Acquirers, Timeout, "every acquirer waits for the failing creation");
        release.Set();
        foreach (var acquisition in failing)
        {
            Assert.That(async () => await acquisition.WaitAsync(Timeout), Throws.TypeOf<KubeConfigException>());
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(attempts, Is.EqualTo(1), "the waiters shared the one failed creation");
            Assert.That(KubernetesClientPool.CountWhere(i => i.Equals(identity)), Is.Zero, "nothing kept for the failed identity");
        }

        var retry = KubernetesClientPool.Acquire(identity);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(attempts, Is.EqualTo(2), "the retry creates again");
            Assert.That(KubernetesClientPool.References(identity), Is.EqualTo(1));
        }

        retry.Release();
        Assert.That(KubernetesClientPool.CountWhere(i => i.Equals(identity)), Is.Zero);
    }

    [Test]
    public async Task AcquireAndReleaseRaces_OnOneIdentity_NeverHandOutADisposedClient_AndDisposeEveryClientOnce()
    {
        const int Threads = 8;
        const int Rounds = 100;
        var created = new System.Collections.Concurrent.ConcurrentBag<Kubernetes>();
        var host = UniqueHost();
        var identity = ApiIdentity.Resolved(() => new KubernetesClientConfiguration { Host = host });
        var disposedOnAcquire = 0;
        using var start = new Barrier(Threads);

        var threads = Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(Timeout);
                for (var round = 0; round < Rounds; round++)
                {
                    var handle = KubernetesClientPool.Acquire(identity);
                    var client = (Kubernetes)handle.Client;
                    created.Add(client);
                    if (client.HttpClient is null) Interlocked.Increment(ref disposedOnAcquire);
                    handle.Release();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToList();
        await Task.WhenAll(threads).WaitAsync(Timeout);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(disposedOnAcquire, Is.Zero, "a handle never holds a disposed client");
            Assert.That(KubernetesClientPool.CountWhere(i => i.Equals(identity)), Is.Zero);
            Assert.That(created.Distinct().Where(c => c.HttpClient is not null), Is.Empty, "every client created was disposed with its last reference");
        }
    }

    [Test]
    public async Task LeaseDisposedWhileItsClientIsCreated_DisposalDoesNotWait_AndTheLateClientIsReleased()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var identity = ApiIdentity.Resolved(() =>
        {
            entered.Set();
            release.Wait(Timeout * 2);
            return new KubernetesClientConfiguration { Host = UniqueHost() };
        });
        var lease = new KubernetesClientLease(identity, pooled: true, configuredNamespace: "demo");
        var reading = OnThread(() => lease.Client);
        try
        {
            await Eventually.That(() => entered.IsSet, Timeout, "the creation started");
            await Task.Run(lease.Dispose).WaitAsync(Timeout);
        }
        finally
        {
            release.Set();
        }

        Assert.That(async () => await reading.WaitAsync(Timeout), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(KubernetesClientPool.CountWhere(i => i.Equals(identity)), Is.Zero, "the reference taken for the disposed lease is released");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Lease_ConfigurationChangedAfterTheLeaseIsMade_ConnectsWithTheValuesItWasMadeWith(bool shared)
    {
        var host = UniqueHost();
        var configuration = new KubernetesClientConfiguration { Host = host, AccessToken = "first", Namespace = "first" };
        var config = new DiscoveryConfig("greeter", 8080) { ClientConfiguration = configuration, ShareWatch = shared };
        using var lease = new KubernetesClientLease(config, client: null);

        configuration.Host = UniqueHost();
        configuration.AccessToken = "second";
        configuration.Namespace = "second";

        using (Assert.EnterMultipleScope())
        {
            Assert.That(lease.Client.BaseUri, Is.EqualTo(new Uri(host)));
            Assert.That(lease.Namespace, Is.EqualTo("first"));
        }
    }

    [Test]
    public void Pool_ClientFiledUnderAnIdentity_IsBuiltFromThatIdentitysValues()
    {
        var host = UniqueHost();
        var ca = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        var configuration = new KubernetesClientConfiguration { Host = host, AccessToken = "first", SslCaCerts = ca };
        var identity = ApiIdentity.ForConfiguration(configuration);

        // Whatever the caller does to its object afterwards: the identity and the client stay with the values taken.
        configuration.Host = UniqueHost();
        configuration.AccessToken = "second";
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(SelfSigned());
        ca.Add(certificate);

        var handle = KubernetesClientPool.Acquire(identity);
        var again = KubernetesClientPool.Acquire(ApiIdentity.ForConfiguration(new KubernetesClientConfiguration { Host = host, AccessToken = "first", SslCaCerts = [] }));
        try
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(handle.Client.BaseUri, Is.EqualTo(new Uri(host)));
                Assert.That(again.Client, Is.SameAs(handle.Client), "equal values, one identity, one client");
                Assert.That(ApiIdentity.ForConfiguration(identity.Configuration!), Is.SameAs(identity), "the identity of its own copy is itself");
                Assert.That(identity.Configuration, Is.Not.SameAs(configuration));
                Assert.That(identity.Configuration!.SslCaCerts, Is.Empty, "the CA collection was copied");
                Assert.That(ApiIdentity.ForConfiguration(configuration), Is.Not.EqualTo(identity), "the changed object is another identity");
            }
        }
        finally
        {
            handle.Release();
            again.Release();
        }
    }

    [Test]
    public async Task SharedWatch_CallerChangesItsConfigurationAfterSubscribing_StaysOnTheServerItWasKeyedFor()
    {
        await using var east = await KubernetesApiEmulator.StartAsync();
        await using var west = await KubernetesApiEmulator.StartAsync();
        east.AddService("fleet", "greeter").AddPod("10.1.0.1");
        west.AddService("fleet", "greeter").AddPod("10.2.0.1");
        var configuration = east.ClientConfiguration;

        using var first = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(configuration)));

        // At once, while the shared watch may still be connecting: it must not follow the caller's object to the west.
        configuration.Host = west.BaseUri.ToString();
        await first.WaitForAddressesAsync(["10.1.0.1:8080"], Timeout);

        // Another subscription keyed for the east joins the same watch and sees the east.
        using var second = new EndpointSetRecorder(KubernetesDiscovery.Observe(Config(east.ClientConfiguration)));
        await second.WaitForAddressesAsync(["10.1.0.1:8080"], Timeout);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(west.Requests.Where(r => r.Kind != RequestKind.Other), Is.Empty, "nothing went to the west");
            Assert.That(east.Requests.Count(r => r.Kind == RequestKind.List || r.IsStreamingList), Is.EqualTo(1), "one shared watch in the east");
        }

        static DiscoveryConfig Config(KubernetesClientConfiguration configuration) =>
            new("greeter", 8080) { Namespace = "fleet", ClientConfiguration = configuration, Debounce = TimeSpan.Zero };
    }

    /// <summary>On a thread of its own: the acquirers block, which would starve the thread pool the test waits on.</summary>
    private static Task<T> OnThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static string UniqueHost() => $"http://pool-{Guid.NewGuid():N}.invalid:8080/";

    /// <summary>A throwaway self-signed certificate (DER), for the CA collection test.</summary>
    private static byte[] SelfSigned()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=pool-test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        return certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Cert);
    }
}
