// Reactive.K8sLb demo: client-side gRPC load balancing driven by Kubernetes EndpointSlices, without a cluster.
//
//   dotnet run --project examples/Demo [-- --duration 30 --pods 3 --no-ui]     (--help for every option)
//
// Starts the in-process Kubernetes API emulator (Reactive.K8sLb.Testing) and Greeter servers on 127.0.0.2, 127.0.0.3,
// ... (one port), points the client pipeline KubernetesDiscovery.Observe(config).ApplyTo(channel) at them, keeps
// several callers busy, and plays a story: scale out, rolling update, a pod not ready, a pod failing every call while
// still ready (ejected by the balancer, readmitted after --ejection-time), an API outage, scale in.
// The summary gives calls per pod, failed calls, how fast each change reached the traffic, and the failing pod's
// failed calls before its ejection, calls while ejected and readmission. With --kubeconfig/--service/--namespace/--port
// the same pipeline runs against a real cluster instead (no story there).
// Exit codes: 0 no call failed (apart from the failing pod's answers before a correct ejection); 1 calls failed or the
// cluster could not be reached; 2 bad command line or kubeconfig; 130 interrupted. Output redirected to a file or a
// pipe gets plain lines (--no-ui).
using Demo;

if (!DemoCommandLine.TryParse(args, Console.IsOutputRedirected, Console.Out, Console.Error, out var options, out var exitCode))
{
    return exitCode;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    return options.Cluster
        ? await ClusterRun.RunAsync(options, Console.Error, stop.Token).ConfigureAwait(false)
        : await EmulatorRun.RunAsync(options, stop.Token).ConfigureAwait(false);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine("interrupted");
    return 130;
}
