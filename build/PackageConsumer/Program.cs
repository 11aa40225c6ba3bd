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

// Endpoint metadata: a build that sees the pod and zone; the updates' metadata view.
using var zoned = BalancedChannel.Create();
using var withMetadata = KubernetesDiscovery.Observe(config).ApplyTo(zoned, (KubernetesEndpoint endpoint) =>
{
    var ip = (System.Net.IPEndPoint)endpoint.EndPoint;
    var address = new BalancerAddress(ip.Address.ToString(), ip.Port);
    address.Attributes.Set(new BalancerAttributesKey<string>("HostOverride"), $"{endpoint.PodName}.greeter");
    return address;
});
using var changes = KubernetesDiscovery.Observe(config).Updates.Subscribe(update =>
{
    foreach (var change in update.EndpointChanges)
    {
        if (change.Kind == ChangeKind.Update) Console.WriteLine($"{change.Item.EndPoint} now in {change.Item.Zone}");
    }
});
