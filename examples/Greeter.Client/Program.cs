// Greeter client: discovers the greeter Service's pods through Kubernetes EndpointSlices and spreads calls over them
// with one balanced gRPC channel (round robin), then checks that more than one pod answered.
//
// Settings (Microsoft.Extensions.Configuration: environment variables, then the command line, which wins; on the
// command line as --NAME value, --NAME=value or the switch in brackets; --help lists them):
//   SERVICE_NAME               [--service] greeter (default): the Service whose EndpointSlices are watched.
//   SERVICE_NAMESPACE          [--namespace] the namespace; default: the in-cluster service-account namespace, or the
//                              kubeconfig context's namespace, else "default".
//   GRPC_PORT                  [--port] grpc (default): a port number (50051) or the Service's port name (grpc).
//   REQUEST_COUNT              [--count] 20 (default): calls to make, one after another.
//   REQUEST_INTERVAL_MS        [--interval-ms] 500 (default): pause between calls.
//   DISCOVERY_TIMEOUT_SECONDS  [--discovery-timeout] 60 (default): how long to wait for the first ready endpoint.
//   CLIENT_MODE                [--mode] observe (default) or resolver (k8s:/// address, see below).
//   TELEMETRY_EXPORTER         [--telemetry] none (default), console or otlp: the library's metrics and traces through
//                              OpenTelemetry (ClientTelemetry.cs); otlp reads OTEL_EXPORTER_OTLP_ENDPOINT.
//   KUBECONFIG                 outside a cluster, the kubeconfig to use (default ~/.kube/config); inside a pod the
//                              service-account token is used. Both come from the default client configuration.
//
// Exit codes: 0 = LOAD_BALANCING_VERIFIED (calls reached 2+ pods, or only one pod exists); 1 = verification failed
// (no endpoint found, no call succeeded, or 2+ pods discovered but one pod served everything); 2 = invalid settings
// (one line on standard error).
using System.Diagnostics;
using Greet;
using Greeter.Client;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Reactive.K8sLb;

if (ClientSettings.IsHelpRequest(args))
{
    Console.Write(ClientSettings.Usage);
    return 0;
}

ClientSettings settings;
DiscoveryConfig config;
try
{
    settings = ClientSettings.Load(args);
    config = new DiscoveryConfig(settings.ServiceName, ServicePort.Parse(settings.Port)) { Namespace = settings.Namespace };
}
catch (Exception ex) when (ex is FormatException or ArgumentException)
{
    await Console.Error.WriteLineAsync($"error: {ClientSettings.WithoutParameter(ex.Message)}").ConfigureAwait(false);
    return 2;
}

// Started before discovery so the first LIST and watch are traced; disposed last, which flushes the exporters.
using var telemetry = ClientTelemetry.Start(settings.Telemetry);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var tracker = new EndpointTracker();
tracker.Updated += update => Console.WriteLine(
    $"discovery: {(update.Changes.Count == 0 ? "no change" : string.Join(' ', update.Changes.Select(c => (c.Kind == ChangeKind.Insert ? "+" : "-") + c.Item)))} ({update.Status}); endpoints now: {tracker.Current.Count}");

Console.WriteLine($"Greeter client: {settings.Mode} mode, service {config}, {settings.RequestCount} calls every {settings.RequestInterval.TotalMilliseconds} ms");

ServiceProvider? provider = null;
IDisposable? subscription = null;
ChannelBase channel;
GrpcChannel grpcChannel;
if (settings.Mode == ClientMode.Observe)
{
    // The Rx form: one watch of the Service's EndpointSlices, applied to a balanced channel.
    var balanced = BalancedChannel.Create();
    subscription = tracker.Wrap(KubernetesDiscovery.Observe(config)).ApplyTo(balanced);
    (channel, grpcChannel) = (balanced, balanced.Channel);

    // The same in tonic's shape, discover(config, tx, build), with the channel's change sink as tx:
    //   subscription = KubernetesDiscovery.Discover(config, balanced.Updates, endPoint => new BalancerAddress(...));
}
else
{
    // The resolver form: a k8s:///service[.namespace][:port] address; the resolver factory comes from DI. In an app
    // with Grpc.Net.ClientFactory:
    //   services.AddKubernetesLoadBalancing();
    //   services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("k8s:///greeter.demo:grpc"))
    //       .ConfigureChannel(o => o.Credentials = ChannelCredentials.Insecure);
    // Here the source is wrapped by the tracker so the final check knows how many pods were discovered.
    var services = new ServiceCollection();
    services.AddKubernetesLoadBalancing(options => options.Observe = c => tracker.Wrap(KubernetesDiscovery.Observe(c)));
    provider = services.BuildServiceProvider();
    var address = settings.Namespace is null
        ? $"k8s:///{settings.ServiceName}:{settings.Port}"
        : $"k8s:///{settings.ServiceName}.{settings.Namespace}:{settings.Port}";
    grpcChannel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        Credentials = ChannelCredentials.Insecure,
        ServiceProvider = provider,
    });
    channel = grpcChannel;
}

var perPod = new SortedDictionary<string, int>(StringComparer.Ordinal);
var failed = 0;
try
{
    using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
    {
        timeout.CancelAfter(settings.DiscoveryTimeout);
        try
        {
            // Starts discovery in resolver mode and waits until at least one endpoint is connected.
            await grpcChannel.ConnectAsync(timeout.Token).ConfigureAwait(false);
            await tracker.Synchronized.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync(
                $"error: no ready endpoint of {config} within {settings.DiscoveryTimeout.TotalSeconds} s (discovery: {tracker.Status}).").ConfigureAwait(false);
            return 1;
        }
    }

    Console.WriteLine($"discovered {tracker.Current.Count} endpoint(s): {string.Join(", ", tracker.Current)}");
    var client = new Greet.Greeter.GreeterClient(channel);
    for (var i = 1; i <= settings.RequestCount && !stop.IsCancellationRequested; i++)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var reply = await client.SayHelloAsync(
                new HelloRequest { Name = $"call-{i}" },
                deadline: DateTime.UtcNow.AddSeconds(10),
                cancellationToken: stop.Token).ConfigureAwait(false);
            perPod[reply.Pod] = perPod.GetValueOrDefault(reply.Pod) + 1;
            Console.WriteLine($"[{i,4}/{settings.RequestCount}] {reply.Message} ({Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms)");
        }
        catch (RpcException ex) when (!stop.IsCancellationRequested)
        {
            failed++;
            Console.WriteLine($"[{i,4}/{settings.RequestCount}] FAILED {ex.StatusCode}: {ex.Status.Detail}");
        }

        if (i < settings.RequestCount && settings.RequestInterval > TimeSpan.Zero)
        {
            await Task.Delay(settings.RequestInterval, stop.Token).ConfigureAwait(false);
        }
    }
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine("interrupted");
}
finally
{
    subscription?.Dispose();
    (channel as IDisposable)?.Dispose();
    if (provider is not null) await provider.DisposeAsync().ConfigureAwait(false);
}

var succeeded = perPod.Values.Sum();
Console.WriteLine();
Console.WriteLine($"{"pod",-40} {"calls",6}");
foreach (var (pod, calls) in perPod) Console.WriteLine($"{pod,-40} {calls,6}");
Console.WriteLine($"{"total",-40} {succeeded,6}   failed: {failed}, pods discovered (max at once): {tracker.MaxCount}");

if (succeeded == 0)
{
    Console.WriteLine("LOAD_BALANCING_FAILED: no call succeeded");
    return 1;
}

if (tracker.MaxCount >= 2 && perPod.Count < 2)
{
    Console.WriteLine($"LOAD_BALANCING_FAILED: {tracker.MaxCount} pods discovered but every call went to {perPod.Keys.Single()}");
    return 1;
}

Console.WriteLine(tracker.MaxCount >= 2
    ? $"LOAD_BALANCING_VERIFIED: {succeeded} calls spread over {perPod.Count} pods"
    : $"LOAD_BALANCING_VERIFIED: only one pod exists; {succeeded} calls served by it");
return 0;
