using System.Net;
using k8s;
using Reactive.K8sLb.Internal;
using Reactive.K8sLb.Tests.Support;

namespace Reactive.K8sLb.Tests.Discovery;

/// <summary>The handler that reports a watch's response headers before its first line, per asynchronous flow.</summary>
public sealed class WatchResponseHeadersHandlerTests
{
    [Test]
    public async Task TwoFlowsShareAClient_EachHearsOnlyItsOwnWatchAndNoList()
    {
        await using var server = ScriptedApiServer.Scripted(request => request.Watch
            ? ScriptedApiServer.WatchReply(keepOpen: true)
            : ScriptedApiServer.ListReply());
        using var client = new Kubernetes(server.ClientConfiguration, new WatchResponseHeadersHandler());

        async Task<List<HttpStatusCode>> ListThenWatchAsync()
        {
            var heard = new List<HttpStatusCode>();
            using var stop = new CancellationTokenSource();
            using var listening = WatchResponseHeadersHandler.Listen(status => { lock (heard) heard.Add(status); });
            await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("demo", cancellationToken: stop.Token);
            var watch = client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync("demo", cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token);
            var firstLine = watch.MoveNextAsync().AsTask();

            // The watch sends no line at all: the headers are all there is to hear.
            await Eventually.That(() => { lock (heard) return heard.Count > 0; }, "the watch's headers");
            await stop.CancelAsync();
            Assert.That(async () => await firstLine, Throws.InstanceOf<OperationCanceledException>());
            lock (heard) return [.. heard];
        }

        var flows = await Task.WhenAll(ListThenWatchAsync(), ListThenWatchAsync());

        Assert.That(flows, Has.All.EqualTo(new[] { HttpStatusCode.OK }));
        Assert.That(server.Watches, Is.EqualTo(2));
    }
}
