using System.Text.Json;
using k8s;
using k8s.Autorest;
using Reactive.K8sLb.Testing;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Emulator;

public sealed class EmulatorFaultTests : EmulatorFixture
{
    [Test]
    public async Task DropAllWatches_ClientEnumerationThrows()
    {
        Emulator.AddService("default", "api", Grpc);
        await using var watch = WatchRecorder.Start(Client);
        await watch.UntilEventsAsync(1);

        Emulator.DropAllWatches();

        var ended = await watch.EndedWithAsync();
        Assert.That(ended, Is.Not.Null.And.Not.InstanceOf<OperationCanceledException>());
        await Emulator.WaitForOpenWatchesAsync(0, Eventually.DefaultTimeout);
    }

    [Test]
    public async Task FailRequests_403_ListThrowsHttpOperationExceptionWithRealStatus()
    {
        var message = KubernetesApiEmulator.ForbiddenListMessage();
        Emulator.FailRequests(403, message, count: 1);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default"));
        using var next = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");

        Assert.That((int)e!.Response.StatusCode, Is.EqualTo(403));
        Assert.That(e.Response.Content, Does.Contain("\"reason\":\"Forbidden\"").And.Contain("\"code\":403"));
        Assert.That(e.Response.Content, Does.Contain("cannot list resource \\\"endpointslices\\\" in API group"));
        Assert.That(next.Body.Items, Is.Empty);
    }

    [Test]
    public async Task FailRequests_UntilDisposed_AlsoFailsWatches()
    {
        var failure = Emulator.FailRequests(500, "etcdserver: request timed out");

        await using (var failed = WatchRecorder.Start(Client))
        {
            var ended = await failed.EndedWithAsync();
            Assert.That(ended, Is.InstanceOf<HttpOperationException>());
            Assert.That((int)((HttpOperationException)ended!).Response.StatusCode, Is.EqualTo(500));
        }

        failure.Dispose();
        using var ok = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");
        Assert.That(ok.Response.IsSuccessStatusCode, Is.True);
    }

    [Test]
    public async Task FailRequests_WithRetryAfter_SendsRetryAfterHeaderAndStatusDetails()
    {
        Emulator.FailRequests(429, "Too many requests, please try again later.", count: 1, retryAfter: TimeSpan.FromSeconds(7));

        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default"));

        Assert.That((int)e!.Response.StatusCode, Is.EqualTo(429));
        Assert.That(e.Response.Headers["Retry-After"], Is.EqualTo(new[] { "7" }));
        Assert.That(e.Response.Content, Does.Contain("\"reason\":\"TooManyRequests\"").And.Contain("\"details\":{\"retryAfterSeconds\":7}"));
    }

    [Test]
    public async Task FailRequests_WithoutRetryAfter_SendsNoRetryAfter()
    {
        Emulator.FailRequests(503, "the server is currently unable to handle the request", count: 1);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() =>
            Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default"));

        Assert.That((int)e!.Response.StatusCode, Is.EqualTo(503));
        Assert.That(e.Response.Headers.Keys, Has.None.EqualTo("Retry-After").IgnoreCase);
        Assert.That(e.Response.Content, Does.Not.Contain("retryAfterSeconds"));
    }

    [TestCase(-1000)]
    [TestCase(0)]
    [TestCase(500)]
    [TestCase(1500)]
    public void FailRequests_RetryAfterNotWholePositiveSeconds_ThrowsNamingIt(int milliseconds)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Emulator.FailRequests(429, "throttled", retryAfter: TimeSpan.FromMilliseconds(milliseconds)));

        Assert.That(e!.ParamName, Is.EqualTo("retryAfter"));
    }

    [Test]
    public async Task StallLists_ListGetsNoAnswerUntilDisposed_ThenTheStateAtThatMoment()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        var stall = Emulator.StallLists();
        var list = Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");
        await Eventually.That(() => Emulator.HeldListCount == 1, "the LIST to be held");
        service.AddPod(Ip(1));
        var completedWhileHeld = list.IsCompleted;
        var recordedWhileHeld = Emulator.Requests.Single(r => r.Kind == RequestKind.List);

        stall.Dispose();
        await Eventually.That(() => list.IsCompleted, "the LIST to be answered");
        using var response = await list;

        Assert.That(completedWhileHeld, Is.False);
        Assert.That(recordedWhileHeld.StatusCode, Is.Zero);
        Assert.That(response.Body.Items.Single().Endpoints.Single().Addresses[0], Is.EqualTo(Ip(1)));
        Assert.That(Emulator.Requests.Single(r => r.Kind == RequestKind.List).StatusCode, Is.EqualTo(200));
    }

    [Test]
    public async Task StallLists_WatchIsServedWhileListsHang()
    {
        Emulator.AddService("default", "api", Grpc);
        using var stall = Emulator.StallLists();
        var list = Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");
        await Eventually.That(() => Emulator.HeldListCount == 1, "the LIST to be held");

        await using var watch = WatchRecorder.Start(Client);
        await watch.UntilEventsAsync(1);

        Assert.That(watch.Events.Single().Type, Is.EqualTo(WatchEventType.Added));
        Assert.That(list.IsCompleted, Is.False);
    }

    [Test]
    public async Task StallLists_ClientCancels_HeldListEndsUnanswered()
    {
        using var stall = Emulator.StallLists();
        using var cts = new CancellationTokenSource();
        var list = Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default", cancellationToken: cts.Token);
        await Eventually.That(() => Emulator.HeldListCount == 1, "the LIST to be held");

        await cts.CancelAsync();

        await Eventually.That(() => Emulator.HeldListCount == 0, "the held LIST to end");
        Assert.That(await Assert.CatchAsync<OperationCanceledException>(() => list), Is.Not.Null);
        Assert.That(Emulator.Requests.Single(r => r.Kind == RequestKind.List).StatusCode, Is.Zero);
    }

    [Test]
    public async Task StallNextWatch_SendsHeadersButNoEvents()
    {
        Emulator.AddService("default", "api", Grpc);
        Emulator.StallNextWatch();
        await using var stalled = WatchRecorder.Start(Client);
        await Emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);

        // A healthy watch opened later gets the current state: the stalled one had every chance to get it first.
        await using var healthy = WatchRecorder.Start(Client);
        await healthy.UntilEventsAsync(1);

        Assert.That(stalled.Events, Is.Empty);
        Assert.That(stalled.Completion.IsCompleted, Is.False);
        stalled.Cancel();
        await Emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);
    }

    [Test]
    public async Task SendMalformedLine_GoesToOnErrorAndStreamContinues()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        await using var watch = WatchRecorder.Start(Client);
        await watch.UntilEventsAsync(1);

        Emulator.SendMalformedLine();
        service.AddPod(Ip(1));
        await watch.UntilEventsAsync(2);

        Assert.That(watch.Errors.Single(), Is.InstanceOf<JsonException>());
        Assert.That(watch.Events[1].Type, Is.EqualTo(WatchEventType.Modified));
    }

    [Test]
    public async Task RestartAsync_DropsWatchesAndKeepsStateOnSamePort()
    {
        var service = Emulator.AddService("default", "api", Grpc);
        service.AddPod(Ip(1));
        var before = Emulator.BaseUri;
        var rv = Emulator.CurrentResourceVersion;
        await using var watch = WatchRecorder.Start(Client);
        await watch.UntilEventsAsync(1);

        await Emulator.RestartAsync();

        Assert.That(await watch.EndedWithAsync(), Is.Not.Null);
        Assert.That(Emulator.BaseUri, Is.EqualTo(before));
        using var list = await Client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(namespaceParameter: "default");
        Assert.That(list.Body.Metadata.ResourceVersion, Is.EqualTo(rv.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(list.Body.Items.Single().Endpoints.Single().Addresses[0], Is.EqualTo(Ip(1)));
    }

    [Test]
    public async Task DisposeAsync_EndsOpenWatches()
    {
        await using var watch = WatchRecorder.Start(Client);
        await Emulator.WaitForOpenWatchesAsync(1, Eventually.DefaultTimeout);

        await Emulator.DisposeAsync();

        Assert.That(await watch.EndedWithAsync(), Is.Not.Null);
        Assert.That(Emulator.OpenWatchCount, Is.Zero);
    }
}
