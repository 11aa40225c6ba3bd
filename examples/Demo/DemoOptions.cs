namespace Demo;

/// <summary>What the demo runs with, from its command line (<see cref="DemoCommandLine"/>).</summary>
internal sealed record DemoOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public int Pods { get; init; } = 3;

    /// <summary>Plain log lines instead of the live table: <c>--no-ui</c>, or output redirected to a file or a pipe.</summary>
    public bool NoUi { get; init; }

    /// <summary>The kubeconfig file given with <c>--kubeconfig</c> (it exists); else the default configuration.</summary>
    public string? KubeConfig { get; init; }

    public string Service { get; init; } = "greeter";

    public string? Namespace { get; init; }

    public string Port { get; init; } = "grpc";

    public int Callers { get; init; } = 4;

    /// <summary>Emulator mode: the outlier ejection's base ejection time (<c>--ejection-time</c>), shorter than the
    /// library's 30 s default so that the failing pod's readmission is seen in a short run.</summary>
    public TimeSpan EjectionTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Emulator mode: the client's zone (<c>--zone</c>); the pods are spread over zone-a, zone-b and zone-c in
    /// turn. In a cluster the zone comes from K8SLB_ZONE, as in any client.</summary>
    public string Zone { get; init; } = "zone-a";

    /// <summary>How topology narrows the endpoints (<c>--topology</c>): the library's default, kube-proxy's hint rules.</summary>
    public Reactive.K8sLb.TopologyMode Topology { get; init; } = Reactive.K8sLb.TopologyMode.Hints;

    /// <summary>The load-balancing policy (<c>--policy</c>; see <see cref="DemoPolicies"/>).</summary>
    public string Policy { get; init; } = DemoPolicies.Default;

    /// <summary>Real-cluster mode: how long discovery may take to synchronize before the demo gives up.</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Real-cluster mode: any of --kubeconfig, --service, --namespace, --port given.</summary>
    public bool Cluster { get; init; }
}
