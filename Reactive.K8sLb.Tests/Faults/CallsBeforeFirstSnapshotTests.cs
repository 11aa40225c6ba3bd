using System.Diagnostics;
using System.Reactive.Concurrency;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Tests.Discovery;
using Reactive.K8sLb.Tests.Greet;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Faults;

/// <summary>
/// Calls made while discovery has no first snapshot (the LIST is never answered) end by their deadline, or with
/// <c>Unavailable</c> and the reason, and never hang: grpc-dotnet waits for the resolver's first result without the
/// call's deadline, so the resolver must answer at once.
/// </summary>
public sealed class CallsBeforeFirstSnapshotTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    // The LIST's own timeout: the call must not wait for it (before the fix it ended only then).
    private static readonly TimeSpan ListTimeout = TimeSpan.FromSeconds(12);

    private static DiscoveryConfig Config(ScriptedApiServer api) => new("greeter", "grpc")
    {
        Namespace = "demo",
        ClientConfiguration = api.ClientConfiguration,
        IdleTimeout = ListTimeout,
        StreamingLists = false, // the scripted server stalls LISTs
    };

    private static async Task<(RpcException Error, TimeSpan Elapsed)> CallAsync(Greeter.GreeterClient client, TimeSpan? deadline)
    {
        var clock = Stopwatch.StartNew();
        var call = client.SayHelloAsync(new HelloRequest { Name = "x" }, deadline: deadline is { } d ? DateTime.UtcNow + d : null);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseAsync.WaitAsync(Eventually.DefaultTimeout));
        return (error!, clock.Elapsed);
    }

    [Test]
    public async Task BalancedChannel_ListNeverAnswered_CallEndsAtItsDeadline()
    {
        await using var api = ScriptedApiServer.Hanging();
        using var channel = BalancedChannel.Create();
        using var discovery = KubernetesDiscovery.Observe(Config(api)).ApplyTo(channel);

        var (error, elapsed) = await CallAsync(new Greeter.GreeterClient(channel), Deadline);

        TestContext.Out.WriteLine($"1 s deadline, LIST never answered: ended after {elapsed.TotalSeconds:0.00} s with {error.StatusCode}");
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(elapsed, Is.LessThan(ListTimeout / 2));
    }

    [Test]
    public async Task K8sAddress_ListNeverAnswered_CallEndsAtItsDeadline()
    {
        await using var api = ScriptedApiServer.Hanging();
        await using var provider = Provider(api, firstSnapshotWait: null);
        using var channel = K8sChannel(provider);

        var (error, elapsed) = await CallAsync(new Greeter.GreeterClient(channel), Deadline);

        TestContext.Out.WriteLine($"k8s:///, 1 s deadline, LIST never answered: ended after {elapsed.TotalSeconds:0.00} s with {error.StatusCode}");
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded), "the library's policy queues the call until its deadline");
        Assert.That(elapsed, Is.LessThan(ListTimeout / 2));
    }

    [Test]
    public async Task NoDeadline_NoSnapshotWithinTheWait_CallFailsUnavailableWithTheReason()
    {
        await using var api = ScriptedApiServer.Hanging();
        using var channel = BalancedChannel.Create(null, TaskPoolScheduler.Default, firstSnapshotWait: TimeSpan.FromMilliseconds(500));
        using var discovery = KubernetesDiscovery.Observe(Config(api)).ApplyTo(channel);

        var (error, elapsed) = await CallAsync(new Greeter.GreeterClient(channel), deadline: null);

        TestContext.Out.WriteLine($"no deadline, 0.5 s first-snapshot wait: ended after {elapsed.TotalSeconds:0.00} s: {error.Status.Detail}");
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(error.Status.Detail, Does.Contain("No snapshot").And.Contain("within 0.5 s"));
    }

    [Test]
    public async Task RoundRobinPolicy_BeforeFirstSnapshot_CallFailsAtOnceWithTheWaitingReason()
    {
        // grpc-dotnet's round_robin cannot queue calls on a resolver failure: it fails them, with the reason.
        await using var api = ScriptedApiServer.Hanging();
        using var channel = BalancedChannel.Create(new GrpcChannelOptions { ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } } });
        using var discovery = KubernetesDiscovery.Observe(Config(api)).ApplyTo(channel);

        var (error, _) = await CallAsync(new Greeter.GreeterClient(channel), Deadline);

        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(error.Status.Detail, Does.StartWith("Waiting for the first snapshot"));
    }

    [Test]
    public async Task ChannelDisposed_WhileCallsWaitForTheFirstSnapshot_EveryCallEndsAtOnce()
    {
        await using var api = ScriptedApiServer.Hanging();
        await using var provider = Provider(api, firstSnapshotWait: null);
        var channel = K8sChannel(provider);
        var client = new Greeter.GreeterClient(channel);

        // 30 calls without deadlines, started just before the channel is disposed, interleaved with the channel's own
        // work (yielding, not sleeping) so some are still waiting for the first result and some are already queued.
        var calls = new List<Task<StatusCode>>();
        for (var i = 0; i < 30; i++)
        {
            calls.Add(Outcome(client));
            if (i % 3 == 0) await Task.Yield();
        }

        channel.Dispose();
        var ended = await Task.WhenAll(calls).WaitAsync(Eventually.DefaultTimeout);

        // The channel cancels its active calls ("gRPC call disposed."); a call still waiting for the resolver's first
        // result is ended by the resolver's last result (Unavailable). None may be left pending.
        TestContext.Out.WriteLine(string.Join(", ", ended.GroupBy(s => s).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.That(ended, Has.All.AnyOf(StatusCode.Unavailable, StatusCode.Cancelled));
    }

    private static async Task<StatusCode> Outcome(Greeter.GreeterClient client)
    {
        try
        {
            await client.SayHelloAsync(new HelloRequest { Name = "x" });
            return StatusCode.OK;
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
        catch (ObjectDisposedException)
        {
            // A call started after disposal: grpc-dotnet refuses it at once.
            return StatusCode.Cancelled;
        }
    }

    private static ServiceProvider Provider(ScriptedApiServer api, TimeSpan? firstSnapshotWait)
    {
        var services = new ServiceCollection();
        services.AddKubernetesLoadBalancing(o => o.ClientConfiguration = api.ClientConfiguration);
        if (firstSnapshotWait is { } wait)
        {
            services.AddSingleton<ResolverFactory>(new KubernetesResolverFactory(new KubernetesLoadBalancingOptions { ClientConfiguration = api.ClientConfiguration }) { FirstSnapshotWait = wait });
        }

        return services.BuildServiceProvider();
    }

    private static GrpcChannel K8sChannel(IServiceProvider provider) => GrpcChannel.ForAddress("k8s:///greeter.demo:grpc", new GrpcChannelOptions
    {
        Credentials = ChannelCredentials.Insecure,
        ServiceProvider = provider,
    });
}
