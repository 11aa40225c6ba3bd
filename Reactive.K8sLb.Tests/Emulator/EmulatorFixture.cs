using k8s;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Tests.Emulator;

/// <summary>A fresh emulator and client per test, with short bookmarks so bookmark tests stay fast.</summary>
public abstract class EmulatorFixture
{
    protected KubernetesApiEmulator Emulator { get; private set; } = null!;

    protected IKubernetes Client { get; private set; } = null!;

    protected static EmulatedServicePort Grpc { get; } = new("grpc", 5000);

    [SetUp]
    public async Task StartEmulatorAsync()
    {
        Emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions
        {
            BookmarkInterval = TimeSpan.FromMilliseconds(100),
            RandomSeed = 42,
        });
        Client = Emulator.CreateClient();
    }

    [TearDown]
    public async Task StopEmulatorAsync()
    {
        Client.Dispose();
        await Emulator.DisposeAsync();
    }

    protected static string Ip(int i) => $"10.0.{i / 250}.{(i % 250) + 1}";
}
