using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Balancing;

/// <summary>Endpoint-to-address mapping and <see cref="DiscoveryApplier.DiscoverCore"/>.</summary>
public sealed class AddressMappingTests
{
    private static readonly BalancerAttributesKey<string> HostOverride = new("HostOverride");

    [Test]
    public void DefaultBuild_IPv4_UsesTheAddressTextAndPort()
    {
        var address = BalancerAddresses.Default(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 8080));

        Assert.That(address.EndPoint, Is.EqualTo(new DnsEndPoint("10.1.2.3", 8080)));
    }

    [Test]
    public void DefaultBuild_IPv6_UsesTheAddressTextAndPort()
    {
        var address = BalancerAddresses.Default(new IPEndPoint(IPAddress.Parse("fd00::a:1"), 50051));

        Assert.That(address.EndPoint.Host, Is.EqualTo("fd00::a:1"));
        Assert.That(address.EndPoint.Port, Is.EqualTo(50051));
    }

    [Test]
    public void DefaultBuild_DnsEndPoint_UsesTheHostAndPort()
    {
        var address = BalancerAddresses.Default(new DnsEndPoint("pod-1.greeter.demo.svc", 50051));

        Assert.That(address.EndPoint, Is.EqualTo(new DnsEndPoint("pod-1.greeter.demo.svc", 50051)));
    }

    [Test]
    public void DefaultBuild_OtherEndPoint_ThrowsNamingTheType()
    {
        Assert.That(() => BalancerAddresses.Default(new System.Net.Sockets.UnixDomainSocketEndPoint("/tmp/x.sock")),
            Throws.ArgumentException.With.Message.Contains("UnixDomainSocketEndPoint"));
    }

    [Test]
    public void DiscoverCore_CustomBuildAttributes_ReachTheResolver()
    {
        var scheduler = new TestScheduler();
        using var resolver = new ChangeSinkResolver("test", scheduler, null, NullLoggerFactory.Instance);
        var results = new List<ResolverResult>();
        resolver.Start(results.Add);
        var source = new FakeDiscovery();

        using var subscription = DiscoveryApplier.DiscoverCore(source, new ChangeSink(resolver), ep =>
        {
            var ip = (IPEndPoint)ep;
            var address = new BalancerAddress(ip.Address.ToString(), ip.Port);
            address.Attributes.Set(HostOverride, "greeter.demo.svc");
            return address;
        }, NullLoggerFactory.Instance);
        source.Insert(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80));
        scheduler.Start();

        Assert.That(results.Single().Addresses!.Single().Attributes.TryGetValue(HostOverride, out var host), Is.True);
        Assert.That(host, Is.EqualTo("greeter.demo.svc"));
    }

    [Test]
    public void DiscoverCore_SinkObserver_AppliesEachUpdateAtomicallyWithStatus()
    {
        var scheduler = new TestScheduler();
        using var resolver = new ChangeSinkResolver("test", scheduler, null, NullLoggerFactory.Instance);
        var results = new List<ResolverResult>();
        resolver.Start(results.Add);
        var source = new FakeDiscovery();
        using var subscription = DiscoveryApplier.DiscoverCore(source, new ChangeSink(resolver), BalancerAddresses.Default, NullLoggerFactory.Instance);

        source.Push(FakeDiscovery.Healthy);
        scheduler.Start();

        // An empty synchronized snapshot is published as a failure naming the reason (the status message).
        Assert.That(results.Single().Status.StatusCode, Is.EqualTo(Grpc.Core.StatusCode.Unavailable));
        Assert.That(((AddressSetUnavailableException)results.Single().Status.DebugException!).Reason, Is.EqualTo(AddressSetUnavailableReason.NoEndpoints));
    }

    [Test]
    public void DiscoverCore_PlainObserver_ReceivesTheMappedChangesInOrder()
    {
        var source = new FakeDiscovery();
        var received = new List<Change<BalancerAddress>>();
        var a = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 80);
        var b = new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80);
        using var subscription = DiscoveryApplier.DiscoverCore(source, System.Reactive.Observer.Create<Change<BalancerAddress>>(received.Add), BalancerAddresses.Default, NullLoggerFactory.Instance);

        source.Insert(a, b);
        source.Remove(a);

        Assert.That(received.Select(c => $"{c.Kind} {c.Item.EndPoint.Host}"),
            Is.EqualTo(new[] { "Insert 10.0.0.1", "Insert 10.0.0.2", "Remove 10.0.0.1" }));
    }

    [Test]
    public void DiscoverCore_Dispose_StopsTheSourceSubscription()
    {
        var source = new FakeDiscovery();
        var subscription = DiscoveryApplier.DiscoverCore(source, System.Reactive.Observer.Create<Change<BalancerAddress>>(_ => { }), BalancerAddresses.Default, NullLoggerFactory.Instance);
        Assert.That(source.HasObservers, Is.True);

        subscription.Dispose();

        Assert.That(source.HasObservers, Is.False);
    }

    [Test]
    public void ApplyTo_PlainObservable_FirstChangeSynchronizesTheChannel()
    {
        var scheduler = new TestScheduler();
        using var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        var subject = new Subject<Change<EndPoint>>();

        using var subscription = subject.AsObservable().ApplyTo(channel);
        subject.OnNext(Change.Insert<EndPoint>(new IPEndPoint(IPAddress.Loopback, 5000)));
        scheduler.Start();

        Assert.That(results.Single().Addresses!.Single().EndPoint, Is.EqualTo(new DnsEndPoint("127.0.0.1", 5000)));
    }

    [Test]
    public void DiscoverCore_IntoBalancedChannelUpdates_CarriesTheFailureStatus()
    {
        var scheduler = new TestScheduler();
        using var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        var source = new FakeDiscovery();

        using var subscription = DiscoveryApplier.DiscoverCore(source, channel.Updates, BalancerAddresses.Default, NullLoggerFactory.Instance);
        source.Fail("Unauthorized");
        scheduler.Start();

        Assert.That(results.Single().Status.StatusCode, Is.EqualTo(Grpc.Core.StatusCode.Unavailable));
        Assert.That(results.Single().Status.Detail, Is.EqualTo("Kubernetes discovery failing: Unauthorized"));
    }

    [Test]
    public void Updates_BatchWithANullAddress_AppliesNothing()
    {
        var scheduler = new TestScheduler();
        using var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        var sink = (IDiscoveryUpdateSink)channel.Updates;

        Assert.That(() => sink.Apply([Change.Insert(new BalancerAddress("10.0.0.1", 80)), Change.Insert<BalancerAddress>(null!)], new DiscoveryUpdate([], FakeDiscovery.Healthy), 0),
            Throws.ArgumentException);
        scheduler.AdvanceBy(1);

        Assert.That(channel.Resolver.Count, Is.Zero);
        Assert.That(results.Select(r => r.Status.StatusCode), Is.EqualTo(new[] { Grpc.Core.StatusCode.Unavailable }), "only the 'waiting for the first snapshot' result");
    }
}
