using System.Net;
using Grpc.Net.Client.Balancer;
using Microsoft.Reactive.Testing;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Faults;

/// <summary>
/// A user's <c>build</c> that throws (a <c>(IPEndPoint)endPoint</c> cast meeting an FQDN endpoint) or returns null
/// affects that endpoint only: logged once with the endpoint and the exception, skipped for its insert and its later
/// remove, counted in what the channel reports, and discovery goes on for every other endpoint.
/// </summary>
public sealed class FailingBuildTests : ReactiveTest
{
    private static readonly DnsEndPoint Fqdn = new("pod-1.greeter.demo.svc", 8080);
    private static readonly IPEndPoint A = new(IPAddress.Parse("10.0.0.1"), 8080);
    private static readonly IPEndPoint B = new(IPAddress.Parse("10.0.0.2"), 8080);

    private static BalancerAddress CastingBuild(EndPoint endPoint)
    {
        var ip = (IPEndPoint)endPoint; // throws InvalidCastException for a DnsEndPoint, as user code does
        return new BalancerAddress(ip.Address.ToString(), ip.Port);
    }

    [Test]
    public void BuildThrowsForOneEndpoint_OthersKeepFlowing_AndItIsLoggedOnceWithTheException()
    {
        var scheduler = new TestScheduler();
        var logs = new CapturingLoggerFactory();
        using var channel = BalancedChannel.Create(new Grpc.Net.Client.GrpcChannelOptions { LoggerFactory = logs }, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        var source = new FakeDiscovery();
        using var subscription = source.ApplyTo(channel, CastingBuild);

        source.Insert(Fqdn, A);
        source.Remove(Fqdn);
        source.Insert(B);
        scheduler.AdvanceBy(1);

        Assert.That(results.Last().Addresses!.Select(a => a.EndPoint.Host).Order(), Is.EqualTo(new[] { "10.0.0.1", "10.0.0.2" }));
        Assert.That(logs.Entries.Count(e => e.EventId.Id == 501), Is.EqualTo(1));
        Assert.That(logs.Entries.Single(e => e.EventId.Id == 501).Message, Does.Contain("pod-1.greeter.demo.svc:8080"));
        Assert.That(logs.Exceptions.Single(e => e.EventId.Id == 501).Exception, Is.InstanceOf<InvalidCastException>());
    }

    [Test]
    public void BuildFailsForTheOnlyEndpoint_CallsAreToldItWasSkipped()
    {
        var scheduler = new TestScheduler();
        using var channel = BalancedChannel.Create(null, scheduler);
        var results = new List<ResolverResult>();
        channel.Resolver.Start(results.Add);
        var source = new FakeDiscovery();
        using var subscription = source.ApplyTo(channel, CastingBuild);

        source.Insert(Fqdn);
        scheduler.AdvanceBy(1);

        Assert.That(results.Last().Status.StatusCode, Is.EqualTo(Grpc.Core.StatusCode.Unavailable));
        Assert.That(results.Last().Status.Detail, Does.Contain("1 endpoint was skipped because the address builder failed"));
    }

    [Test]
    public void BuildReturnsNull_ThatEndpointIsSkipped_AndItsRemoveToo()
    {
        var built = new List<EndPoint>();
        var source = new FakeDiscovery();
        var received = new List<Change<BalancerAddress>>();
        using var subscription = DiscoveryApplier.DiscoverCore(
            source,
            System.Reactive.Observer.Create<Change<BalancerAddress>>(received.Add),
            endPoint =>
            {
                built.Add(endPoint);
                return endPoint.Equals(A) ? null! : BalancerAddresses.Default(endPoint);
            },
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

        source.Insert(A, B);
        source.Remove(A);
        source.Remove(B);

        Assert.That(received.Select(c => $"{c.Kind} {c.Item.EndPoint.Host}"), Is.EqualTo(new[] { "Insert 10.0.0.2", "Remove 10.0.0.2" }));
        Assert.That(built, Is.EqualTo(new EndPoint[] { A, B }), "build runs once per insert; removes reuse the built address");
    }

    [Test]
    public void ObserverThrows_DiscoveryKeepsDeliveringToIt()
    {
        var source = new FakeDiscovery();
        var received = new List<Change<BalancerAddress>>();
        var logs = new CapturingLoggerFactory();
        using var subscription = DiscoveryApplier.DiscoverCore(
            source,
            System.Reactive.Observer.Create<Change<BalancerAddress>>(change =>
            {
                received.Add(change);
                if (received.Count == 1) throw new InvalidOperationException("observer bug");
            }),
            BalancerAddresses.Default,
            logs);

        source.Insert(A);
        source.Insert(B);

        Assert.That(received, Has.Count.EqualTo(2));
        Assert.That(source.HasObservers, Is.True, "the subscription survives");
        Assert.That(logs.Entries.Count(e => e.EventId.Id == 503), Is.EqualTo(1));
    }

    [Test]
    public async Task EndToEnd_CastingBuildMeetsAnFqdnEndpoint_ThePodsStillServe_AndNewOnesArrive()
    {
        await using var pods = await GreeterPods.StartAsync(2);
        using var channel = BalancedChannel.Create();
        var source = new FakeDiscovery();
        using var subscription = source.ApplyTo(channel, CastingBuild);
        var client = new Greeter.GreeterClient(channel);

        source.Insert(new DnsEndPoint("pod-x.greeter.demo.svc", pods.Port), pods.EndPoint("pod-1"));
        await Eventually.That(async () => (await client.SayHelloAsync(new HelloRequest { Name = "x" })).Pod == "pod-1", Eventually.DefaultTimeout, "pod-1 serves");
        source.Insert(pods.EndPoint("pod-2"));

        await Eventually.That(async () => (await client.SayHelloAsync(new HelloRequest { Name = "x" })).Pod == "pod-2", Eventually.DefaultTimeout, "pod-2, added after the failing build, serves");
    }
}
