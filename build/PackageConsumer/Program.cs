// Compiled, not run, against the packed packages: the entry points a first user touches in both of them. When the
// public API changes, change this with it.
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb;
using Reactive.K8sLb.Testing;

await using var api = await KubernetesApiEmulator.StartAsync();
var config = new DiscoveryConfig("greeter", ServicePort.FromNumber(5000)) { ClientConfiguration = api.ClientConfiguration };
using var channel = BalancedChannel.Create();
using var discovery = KubernetesDiscovery.Observe(config).ApplyTo(channel);
Console.WriteLine(channel.Channel.Target);
Func<IHealthChecksBuilder, IHealthChecksBuilder> addHealthCheck = checks => checks.AddKubernetesDiscovery();
Console.WriteLine(addHealthCheck.Method.Name);

// The calls that must stay unambiguous in C# 12 (no OverloadResolutionPriority there): an untyped lambda, a null build,
// an empty collection expression.
using var plain = BalancedChannel.Create();
using var untyped = KubernetesDiscovery.Observe(config).ApplyTo(plain, e => new BalancerAddress(e.ToString()!, 80));
using var nullBuild = KubernetesDiscovery.Observe(config).ApplyTo(plain, null);
using var oneCall = KubernetesDiscovery.Discover(config, plain, e => new BalancerAddress(e.ToString()!, 80));
IObserver<Change<BalancerAddress>> tx = plain.Updates;
using var toObserver = KubernetesDiscovery.Discover(config, tx, e => new BalancerAddress(e.ToString()!, 80));
var statusOnly = new DiscoveryUpdate([], DiscoveryStatus.Connecting);
var withEndpoints = DiscoveryUpdate.FromEndpointChanges([], DiscoveryStatus.Connecting);
Console.WriteLine($"{statusOnly} {withEndpoints}");

// Endpoint metadata: a build that sees the pod and zone; the updates' metadata view.
var hostOverride = new BalancerAttributesKey<string>("HostOverride");
BalancerAddress PerPod(KubernetesEndpoint endpoint)
{
    var ip = (System.Net.IPEndPoint)endpoint.EndPoint;
    var address = new BalancerAddress(ip.Address.ToString(), ip.Port);
    address.Attributes.Set(hostOverride, $"{endpoint.PodName}.greeter");
    return address;
}

using var zoned = BalancedChannel.Create();
using var withMetadata = KubernetesDiscovery.Observe(config).ApplyWithMetadataTo(zoned, endpoint => PerPod(endpoint));
using var oneCallWithMetadata = KubernetesDiscovery.DiscoverWithMetadata(config, zoned, endpoint => PerPod(endpoint));
using var toObserverWithMetadata = KubernetesDiscovery.DiscoverWithMetadata(config, tx, endpoint => PerPod(endpoint));
using var changes = KubernetesDiscovery.Observe(config).Updates.Subscribe(update =>
{
    foreach (var change in update.EndpointChanges)
    {
        if (change.Kind == ChangeKind.Update) Console.WriteLine($"{change.Item.EndPoint} now in {change.Item.Zone}");
    }
});

// k8s:/// channels: the options' build sees the metadata; a build of the bare endpoint is written e => f(e.EndPoint).
var services = new ServiceCollection();
services.AddKubernetesLoadBalancing(options => options.Build = endpoint => PerPod(endpoint));
services.AddKubernetesLoadBalancing(options => options.Build = e => new BalancerAddress(e.EndPoint.ToString()!, 80));
Console.WriteLine(services.Count);
