using System.Net;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.LoadAware;

/// <summary>
/// The policies selected by name in a real <see cref="BalancedChannel"/>'s service config, over real gRPC pods of
/// different speeds: the load-aware ones send the slow pod a small share, round robin its full share. Shares and
/// orderings, never timings.
/// </summary>
public sealed class LoadAwareEndToEndTests
{
    private const int Callers = 4;
    private const int CallsPerCaller = 60;
    private static readonly TimeSpan SlowPodDelay = TimeSpan.FromMilliseconds(40);

    private static IEnumerable<TestCaseData> LoadAwarePolicies()
    {
        yield return new TestCaseData(new LeastRequestConfig()).SetArgDisplayNames("least_request");
        yield return new TestCaseData(new PeakEwmaConfig()).SetArgDisplayNames("peak_ewma");
    }

    [TestCaseSource(nameof(LoadAwarePolicies))]
    public async Task SlowPod_GetsLessThanHalfTheShareOfEachFastPod(LoadBalancingConfig policy)
    {
        var hits = await RunWithSlowPod(policy);

        var slow = hits["pod-1"];
        TestContext.Out.WriteLine(string.Join(", ", hits.Select(h => $"{h.Key}={h.Value}")));
        Assert.That(slow * 2, Is.LessThan(Math.Min(hits["pod-2"], hits["pod-3"])), $"slow pod {slow} calls of {Callers * CallsPerCaller}");
    }

    [Test]
    public async Task RoundRobin_GivesTheSlowPodItsFullShare()
    {
        var hits = await RunWithSlowPod(new NewestFirstRoundRobinConfig());

        // Round robin does not look at load: each pod gets a third, give or take the calls in flight at the start.
        TestContext.Out.WriteLine(string.Join(", ", hits.Select(h => $"{h.Key}={h.Value}")));
        Assert.That(hits["pod-1"], Is.GreaterThan(Callers * CallsPerCaller / 4));
    }

    [Test]
    public void AddKubernetesLoadBalancing_RegistersEveryPolicy()
    {
        using var provider = new ServiceCollection().AddKubernetesLoadBalancing().BuildServiceProvider();

        var names = provider.GetServices<LoadBalancerFactory>().Select(f => f.Name);

        Assert.That(names, Is.SupersetOf(new[] { "newest_first_round_robin", "least_request", "peak_ewma" }));
    }

    private static async Task<Dictionary<string, int>> RunWithSlowPod(LoadBalancingConfig policy)
    {
        await using var pods = await GreeterPods.StartAsync(3);
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { policy } } });
        foreach (var name in pods.Names) channel.Updates.OnNext(Change.Insert(BalancerAddresses.Default(pods.EndPoint(name))));
        var client = new Greeter.GreeterClient(channel);

        // Every pod connected and measured once before the load starts.
        await Eventually.That(async () =>
        {
            await client.SayHelloAsync(new HelloRequest { Name = "warm-up" });
            return pods.Names.All(n => pods.HitsOf(n) > 0);
        }, TimeSpan.FromSeconds(10), "every pod served a call");
        pods.SetDelay("pod-1", SlowPodDelay);
        pods.ResetCounts();

        await Task.WhenAll(Enumerable.Range(0, Callers).Select(async _ =>
        {
            for (var i = 0; i < CallsPerCaller; i++) await client.SayHelloAsync(new HelloRequest { Name = "x" });
        }));

        return pods.Names.ToDictionary(n => n, pods.HitsOf);
    }
}
