extern alias demo;

using System.Net;
using System.Net.Sockets;
using demo::Demo;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Examples;

/// <summary>
/// The demo's real-cluster mode says within seconds when it cannot work, instead of waiting for a connection timeout.
/// Every API server here is on loopback: a refused port, a listener that never answers, or the emulator.
/// </summary>
[NonParallelizable]
public sealed class DemoClusterRunTests
{
    private readonly List<string> _files = [];

    [TearDown]
    public void DeleteKubeConfigs()
    {
        foreach (var file in _files) File.Delete(file);
        _files.Clear();
    }

    [Test]
    public async Task ApiRefusesConnections_FailsOnTheFirstFailingStatus_NotAtTheSyncTimeout()
    {
        var server = $"http://127.0.0.1:{LoopbackGrpcPod.FreePort(IPAddress.Loopback)}";
        var options = Options(server, syncTimeout: TimeSpan.FromMinutes(5));
        using var error = new StringWriter();

        var run = ClusterRun.RunAsync(options, error, CancellationToken.None);
        await Eventually.That(() => run.IsCompleted, "the run to end before its 5 min sync timeout");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await run, Is.EqualTo(1));
            Assert.That(error.ToString(), Does.StartWith($"error: cannot watch the EndpointSlices of greeter.demo:grpc at {server}").And.Contain("refused"));
        }
    }

    [Test]
    public async Task ApiNeverAnswers_FailsAtTheSyncTimeout_WithTheStatus()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var server = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        using var error = new StringWriter();

        var exitCode = await ClusterRun.RunAsync(Options(server, syncTimeout: TimeSpan.FromSeconds(1)), error, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.ToString().TrimEnd(), Is.EqualTo($"error: discovery of greeter.demo:grpc at {server} has not synchronized within 1 s (Connecting)"));
        }
    }

    [Test]
    public async Task ServiceWithoutReadyPods_SaysWhy()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", 50051));
        using var error = new StringWriter();

        var exitCode = await ClusterRun.RunAsync(Options(emulator.BaseUri.ToString(), TimeSpan.FromMinutes(5)), error, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.ToString(), Does.StartWith("error: nothing to call in greeter.demo:grpc: ").And.Contain("demo/greeter"));
        }
    }

    [Test]
    public async Task ServiceWithReadyPods_CallsThemForTheDuration_ExitCodeZero()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync();
        await using var servers = PodServers.Create();
        var service = emulator.AddService("demo", "greeter", new EmulatedServicePort("grpc", servers.Port));
        for (var i = 0; i < 2; i++)
        {
            var (name, ip) = await servers.StartNextAsync(CancellationToken.None);
            service.AddPod(ip, name: name);
        }

        using var error = new StringWriter();
        var options = Options(emulator.BaseUri.ToString(), TimeSpan.FromMinutes(5)) with { Duration = TimeSpan.FromSeconds(1), Callers = 2 };

        var exitCode = await ClusterRun.RunAsync(options, error, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.Zero, error.ToString());
            Assert.That(servers.Served("greeter-1"), Is.Not.Empty);
            Assert.That(servers.Served("greeter-2"), Is.Not.Empty);
        }
    }

    [Test]
    public async Task KubeConfigNotYaml_OneLineError_ExitCodeTwo()
    {
        var path = KubeConfig("clusters: [");
        using var error = new StringWriter();

        var exitCode = await ClusterRun.RunAsync(new DemoOptions { KubeConfig = path, Cluster = true }, error, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(error.ToString(), Does.StartWith($"error: kubeconfig '{path}': "));
            Assert.That(error.ToString().TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line");
        }
    }

    private DemoOptions Options(string server, TimeSpan syncTimeout) => new()
    {
        KubeConfig = KubeConfig($"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: {server}
            contexts:
            - name: test
              context:
                cluster: test
                user: test
                namespace: demo
            current-context: test
            users:
            - name: test
              user:
                token: not-a-real-token
            """),
        Cluster = true,
        NoUi = true,
        SyncTimeout = syncTimeout,
    };

    private string KubeConfig(string yaml)
    {
        var path = Path.GetTempFileName();
        _files.Add(path);
        File.WriteAllText(path, yaml);
        return path;
    }
}
