namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// How the endpoints the slices list are used, for the endpoint gauges and the health check: the resolved set by
/// state, and those left out by reason. An endpoint counts once (its first usable address), whatever its slice count.
/// </summary>
/// <param name="Ready">In the resolved set because ready.</param>
/// <param name="ServingTerminating">In the resolved set as the serving-and-terminating fallback (no endpoint is ready).</param>
/// <param name="NotReady">Left out: not ready (and not used as the fallback).</param>
/// <param name="WrongFamily">Left out: its slice's address family is not the one in use.</param>
/// <param name="MissingPort">Left out: its slice does not define the port asked for.</param>
/// <param name="BadAddress">Left out: no address of the endpoint could be parsed.</param>
internal readonly record struct EndpointCounts(int Ready, int ServingTerminating, int NotReady, int WrongFamily, int MissingPort, int BadAddress)
{
    /// <summary>The size of the resolved set.</summary>
    public int Resolved => Ready + ServingTerminating;
}
