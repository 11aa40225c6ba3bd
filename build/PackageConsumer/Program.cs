// Compiled, not run, against the packed packages: the entry points a first user touches in both of them. When the
// public API changes, change this with it.
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
