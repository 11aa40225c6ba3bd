using System.Reactive.Concurrency;
using BenchmarkDotNet.Attributes;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Internal.Ejection;
using Reactive.K8sLb.Internal.LoadAware;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Benchmarks;

/// <summary>
/// What one pick costs (issue 15: under 100 ns, 0 B), per picker, over 5 and 50 endpoints, with outlier detection off
/// and on (the policies' default). Each operation is a pick plus the call lifecycle grpc-dotnet drives on its tracker
/// (<c>Start</c>, then <c>Complete</c> at the response headers), so a load-aware picker's pooled per-call trackers go
/// back to their pool as in a real channel and "Allocated" is the steady-state cost. The subchannels are real
/// grpc-dotnet subchannels of a channel over a static resolver (never connected: a pick needs none), wrapped in the
/// balancer's endpoints exactly as <see cref="NewestFirstRoundRobinBalancer"/> wraps them; the pickers are built with
/// the balancer's own clock and random source.
/// </summary>
[MemoryDiagnoser]
public class PickerBenchmarks
{
    private static readonly CompletionContext Answered = new();

    private GrpcChannel _channel = null!;
    private OutlierDetector? _detector;
    private SubchannelPicker _picker = null!;
    private PickContext _context = null!;

    /// <summary>RoundRobin: newest_first_round_robin's picker. OutstandingCalls: least_request's. PeakEwma: peak_ewma's.</summary>
    [Params("RoundRobin", "OutstandingCalls", "PeakEwma")]
    public string Picker { get; set; } = "RoundRobin";

    [Params(5, 50)]
    public int Endpoints { get; set; }

    /// <summary>Whether the endpoints are under outlier detection (on by default in every policy config): picks then
    /// carry a tracker that counts outcomes.</summary>
    [Params(false, true)]
    public bool OutlierDetection { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        var addresses = Enumerable.Range(0, Endpoints).Select(i => new BalancerAddress($"127.0.1.{2 + i}", 5000)).ToArray();
        var capture = new SubchannelCapture();
        var services = new ServiceCollection()
            .AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses))
            .AddSingleton<LoadBalancerFactory>(capture)
            .BuildServiceProvider();
        _channel = GrpcChannel.ForAddress("static:///picker-bench", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = services,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new LoadBalancingConfig(SubchannelCapture.PolicyName) } },
        });
        _ = _channel.ConnectAsync(); // starts the resolver; the capturing balancer never reports Ready
        var subchannels = await capture.Created.Task.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        // The balancer's production clock: monotonic (Stopwatch) ticks, as TimeSpan ticks.
        var clock = DefaultScheduler.Instance;
        var perTick = (double)TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency;
        long Ticks() => (long)(System.Diagnostics.Stopwatch.GetTimestamp() * perTick);
        var now = Ticks();
        if (OutlierDetection) _detector = new OutlierDetector(OutlierPolicy.Default, clock, new IgnoreEjections());
        var endpoints = subchannels.Select((s, i) =>
        {
            var endpoint = new BalancerInstruments.Endpoint(s, addresses[i], identity: null);
            if (_detector is not null) endpoint.Detect(_detector);
            // As the balancer does: least_request counts calls in flight only (no clock), peak_ewma measures latencies.
            if (Picker != "RoundRobin") endpoint.TrackLoad(new EndpointLoad(TimeSpan.FromMilliseconds(30).Ticks, TimeSpan.FromSeconds(10).Ticks, now), Picker == "PeakEwma" ? Ticks : null);
            return endpoint;
        }).ToArray();

        _picker = Picker switch
        {
            "RoundRobin" => new RoundRobinPicker(endpoints, 0),
            "OutstandingCalls" => new LoadAwarePicker(endpoints, [], 1.0, LoadMeasure.OutstandingCalls, 2, Random.Shared.Next, Ticks, slowStart: null, spill: null, routesHealthChecks: false),
            _ => new LoadAwarePicker(endpoints, [], 1.0, LoadMeasure.PeakEwma, 2, Random.Shared.Next, Ticks, slowStart: null, spill: null, routesHealthChecks: false),
        };
        _context = new PickContext { Request = new HttpRequestMessage(HttpMethod.Post, "http://picker-bench/greet.Greeter/SayHello") };

        // Fill the trackers' pools and let every endpoint's load settle before measuring.
        for (var i = 0; i < 10_000; i++) PickAndCall();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _detector?.Dispose();
        _channel.Dispose();
    }

    /// <summary>One pick, and its tracker's <c>Start</c> and <c>Complete</c> when the pick carries one.</summary>
    [Benchmark]
    public Subchannel? PickAndCall()
    {
        var result = _picker.Pick(_context);
        if (result.SubchannelCallTracker is { } tracker)
        {
            tracker.Start();
            tracker.Complete(Answered);
        }

        return result.Subchannel;
    }

    /// <summary>A balancer that creates one subchannel per resolved address, hands them out, and never connects.</summary>
    private sealed class SubchannelCapture : LoadBalancerFactory
    {
        public const string PolicyName = "picker_bench_capture";

        public TaskCompletionSource<Subchannel[]> Created { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string Name => PolicyName;

        public override LoadBalancer Create(LoadBalancerOptions options) => new Balancer(this, options.Controller);

        private sealed class Balancer(SubchannelCapture owner, IChannelControlHelper controller) : LoadBalancer
        {
            private Subchannel[] _subchannels = [];

            public override void UpdateChannelState(ChannelState state)
            {
                if (_subchannels.Length > 0 || state.Addresses is not { Count: > 0 } addresses) return;
                _subchannels = [.. addresses.Select(a => controller.CreateSubchannel(new SubchannelOptions([a])))];
                owner.Created.TrySetResult(_subchannels);
            }

            public override void RequestConnection()
            {
            }

            protected override void Dispose(bool disposing)
            {
                foreach (var subchannel in _subchannels) subchannel.Dispose();
                base.Dispose(disposing);
            }
        }
    }

    private sealed class IgnoreEjections : IEjectionObserver
    {
        public void Ejected(EndpointHealth endpoint, EjectionReason reason, TimeSpan duration, string evidence)
        {
        }

        public void Readmitted(EndpointHealth endpoint, TimeSpan ejectedFor)
        {
        }

        public void EjectionRefused(EndpointHealth endpoint, string evidence, string why)
        {
        }
    }
}
