using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace Reactive.K8sLb.Policies;

/// <summary>One policy configuration of the comparison: its name in the tables and a fresh config per channel (a
/// config object belongs to one channel's service config).</summary>
internal sealed record PolicyUnderTest(string Name, Func<LoadBalancingConfig> Config)
{
    public const string RoundRobin = "round_robin";

    /// <summary>The policies of the comparison, each with the library's defaults (outlier detection on, slow start off).</summary>
    public static IReadOnlyList<PolicyUnderTest> All { get; } =
    [
        new(RoundRobin, () => new RoundRobinConfig()),
        new("newest_first_round_robin", () => new NewestFirstRoundRobinConfig()),
        new("least_request", () => new LeastRequestConfig()),
        new("peak_ewma", () => new PeakEwmaConfig()),
        new("peak_ewma, outlier detection off", () => new PeakEwmaConfig { OutlierDetection = new OutlierDetectionOptions { Enabled = false } }),
    ];

    /// <summary>Diagnostic rows (<c>--diagnostic</c>): three random choices instead of two, so the chance that every
    /// draw of a pick is the same endpoint falls from 1/n² to 1/n³.</summary>
    public static IReadOnlyList<PolicyUnderTest> Diagnostic { get; } =
    [
        new("least_request, choiceCount 3", () => new LeastRequestConfig { ChoiceCount = 3 }),
        new("peak_ewma, choiceCount 3", () => new PeakEwmaConfig { ChoiceCount = 3 }),
    ];

    /// <summary>The policies that take slow start, with it off and on (window as given); round robin (grpc-dotnet's,
    /// no slow start) as the baseline.</summary>
    public static IReadOnlyList<PolicyUnderTest> WithSlowStart(TimeSpan window)
    {
        SlowStartOptions On() => new() { Enabled = true, Window = window };
        return
        [
            new(RoundRobin, () => new RoundRobinConfig()),
            new("newest_first_round_robin", () => new NewestFirstRoundRobinConfig()),
            new("newest_first_round_robin + slow start", () => new NewestFirstRoundRobinConfig { SlowStart = On() }),
            new("least_request", () => new LeastRequestConfig()),
            new("least_request + slow start", () => new LeastRequestConfig { SlowStart = On() }),
            new("peak_ewma", () => new PeakEwmaConfig()),
            new("peak_ewma + slow start", () => new PeakEwmaConfig { SlowStart = On() }),
        ];
    }

    /// <summary>A channel with this policy over the given pods, connected, every pod having answered once.</summary>
    public async Task<BalancedChannel> OpenAsync(IEnumerable<string> ips, int port)
    {
        var channel = BalancedChannel.Create(new GrpcChannelOptions
        {
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { Config() } },
        });
        foreach (var ip in ips) channel.Updates.OnNext(Change.Insert(new BalancerAddress(ip, port)));
        await channel.Channel.ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return channel;
    }
}
