using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.EndToEnd;

/// <summary>
/// A pod's endpoint changes zone in its EndpointSlice while calls flow: the channel learns the new zone through the
/// address attributes and keeps the same subchannel and the same HTTP/2 connection.
/// </summary>
public sealed class EndpointMetadataEndToEndTests
{
    [Test]
    public async Task ZoneChanges_CallsStayOnTheSameConnection_AndTheNewZoneIsInTheAddressAttributes()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        var ip = IPAddress.Parse("127.0.0.1");
        var port = LoopbackGrpcPod.FreePort(ip);
        await using var pod = await LoopbackGrpcPod.StartAsync<ConnectionEcho>(ip, port);
        var service = emulator.AddService("demo", "zoned", new EmulatedServicePort("grpc", port));
        service.AddPod(ip.ToString(), name: "zoned-1", zone: "zone-a", node: "node-1");
        var logs = new CapturingLoggerFactory();
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { LoggerFactory = logs });
        var config = new DiscoveryConfig("zoned", "grpc") { Namespace = "demo", ClientConfiguration = emulator.ClientConfiguration };
        using var subscription = KubernetesDiscovery.Observe(config).ApplyTo(channel);
        var client = new Greeter.GreeterClient(channel);
        string? ZoneHeld() => channel.Resolver.Addresses.SingleOrDefault() is { } a && a.Attributes.TryGetValue(KubernetesEndpoint.AttributeKey, out var e) ? e.Zone : null;

        var before = (await client.SayHelloAsync(new HelloRequest { Name = "x" })).Message;
        Assert.That(ZoneHeld(), Is.EqualTo("zone-a"));
        var slice = emulator.GetSlice("demo", service.SliceNames.Single())!;
        slice.Endpoints.Single().Zone = "zone-b";
        emulator.PutSlice(slice);
        await Eventually.That(() => ZoneHeld() == "zone-b", "the resolver holds the new zone");
        await Eventually.That(() => logs.Entries.Any(e => e.EventId.Name == "AddressesUpdated"), "the subchannel was given the new address");
        var after = new List<string>();
        for (var i = 0; i < 5; i++) after.Add((await client.SayHelloAsync(new HelloRequest { Name = "x" })).Message);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(after, Is.All.EqualTo(before), "every call after the change went over the connection opened before it");
            Assert.That(logs.Entries.Count(e => e.EventId.Name == "SubchannelCreated"), Is.EqualTo(1), "one subchannel, kept");
            Assert.That(logs.Entries.Any(e => e.EventId.Name is "ConnectedAddressNotInUpdatedAddresses" or "AddressesUpdatedWhileConnecting"), Is.False);
        }
    }

    /// <summary>Replies with the id of the HTTP/2 connection the call came in on.</summary>
    private sealed class ConnectionEcho : Greeter.GreeterBase
    {
        public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context) =>
            Task.FromResult(new HelloReply { Message = context.GetHttpContext().Connection.Id, Pod = "zoned-1" });
    }
}
