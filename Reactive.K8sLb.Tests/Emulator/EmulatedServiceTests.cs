using System.Globalization;
using k8s;
using Reactive.K8sLb.Testing;

namespace Reactive.K8sLb.Tests.Emulator;

public sealed class EmulatedServiceTests : EmulatorFixture
{
    [Test]
    public async Task AddPod_BeyondMaxEndpointsPerSlice_SpreadsOverSlices()
    {
        await using var emulator = await KubernetesApiEmulator.StartAsync(new KubernetesApiEmulatorOptions { MaxEndpointsPerSlice = 2 });
        var service = emulator.AddService("default", "api", Grpc);

        service.ScaleTo(5, Ip);

        Assert.That(service.SliceNames, Has.Count.EqualTo(3));
        Assert.That(service.Pods.GroupBy(p => p.SliceName).Select(g => g.Count()), Is.EqualTo(new[] { 2, 2, 1 }));
        Assert.That(service.SliceNames.Select(n => emulator.GetSlice("default", n)!.Endpoints.Count).Sum(), Is.EqualTo(5));
    }

    [Test]
    public void NewService_PublishesOneEmptyPlaceholderSlice_RemovedWhenEndpointsArrive()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        var placeholder = service.SliceNames.Single();

        Assert.That(Emulator.GetSlice("default", placeholder)!.Endpoints, Is.Empty);
        service.AddPod("fd00::1");

        Assert.That(Emulator.GetSlice("default", placeholder), Is.Null);
        Assert.That(Emulator.GetSlice("default", service.SliceNames.Single())!.AddressType, Is.EqualTo("IPv6"));
    }

    [Test]
    public void SetTerminating_SetsReadyFalseServingTrueTerminatingTrue()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1));
        var rv = Emulator.CurrentResourceVersion;

        service.SetTerminating(Ip(1));

        var conditions = Emulator.GetSlice("default", service.SliceNames.Single())!.Endpoints.Single().Conditions;
        Assert.That((conditions.Ready, conditions.Serving, conditions.Terminating), Is.EqualTo((false, true, true)));
        Assert.That(Emulator.CurrentResourceVersion, Is.EqualTo(rv + 1));
    }

    [Test]
    public void Batch_ChangesInTwoSlices_BumpsResourceVersionOncePerSlice()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.ScaleTo(150, Ip);
        var rv = Emulator.CurrentResourceVersion;

        service.Batch(s =>
        {
            s.SetReady(Ip(0), false);
            s.SetReady(Ip(1), false);
            s.SetReady(Ip(149), false);
        });

        Assert.That(service.SliceNames, Has.Count.EqualTo(2));
        Assert.That(Emulator.CurrentResourceVersion, Is.EqualTo(rv + 2));
    }

    [Test]
    public async Task MoveEndpoint_WritesTargetThenSource()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1));
        service.AddPod(Ip(2));
        var source = service.SliceNames.Single();
        await using var watch = WatchRecorder.Start(Client);
        await watch.UntilEventsAsync(1);

        service.MoveEndpoint(Ip(2), "api-moved");
        await watch.UntilEventsAsync(3);

        Assert.That(watch.Events.Skip(1).Select(e => (e.Type, e.Slice.Metadata.Name)), Is.EqualTo(new[]
        {
            (WatchEventType.Added, "api-moved"),
            (WatchEventType.Modified, source),
        }));
        Assert.That(service.Pods.Single(p => p.Ip == Ip(2)).SliceName, Is.EqualTo("api-moved"));
    }

    [Test]
    public async Task RollingUpdateAsync_OldPodTerminatingBeforeRemovalThenGone()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.ScaleTo(2, Ip);
        var seen = new List<string>();

        await service.RollingUpdateAsync([Ip(10), Ip(11)], ip =>
        {
            var pod = service.Pods.Single(p => p.Ip == ip);
            seen.Add(string.Create(CultureInfo.InvariantCulture, $"{ip}:{pod.Ready}/{pod.Serving}/{pod.Terminating}"));
            return Task.CompletedTask;
        });

        Assert.That(seen, Is.EqualTo(new[] { $"{Ip(0)}:False/True/True", $"{Ip(1)}:False/True/True" }));
        Assert.That(service.Pods.Select(p => p.Ip), Is.EqualTo(new[] { Ip(10), Ip(11) }));
    }

    [Test]
    public void RemoveService_DeletesAllSlices()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.ScaleTo(3, Ip);
        var slice = service.SliceNames.Single();

        Emulator.RemoveService("default", "api");

        Assert.That(Emulator.GetSlice("default", slice), Is.Null);
        Assert.That(() => Emulator.GetService("default", "api"), Throws.InstanceOf<KeyNotFoundException>());
    }
}
