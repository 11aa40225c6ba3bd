namespace Reactive.K8sLb.Internal.Topology;

/// <summary>
/// Which endpoints of a set are local (the ones calls go to first) under a <see cref="TopologyPolicy"/>, and why: the
/// balancer's side of topology, decided again for every new endpoint set. Endpoints without metadata (an address from
/// another resolver) have no zone and no hints.
/// </summary>
/// <param name="IsLocal">Per endpoint, in input order: whether it is local. All <see langword="false"/> when topology
/// does not narrow the set.</param>
/// <param name="LocalCount">How many are local; 0 when topology does not narrow the set.</param>
/// <param name="Why">Why, in words, for the log line.</param>
/// <param name="HintsIgnored">Whether some endpoints carry hints that kube-proxy's rules ignore here (worth an
/// Information line rather than a Debug one).</param>
/// <param name="Rule">The rule that decided, without the details <paramref name="Why"/> names (an endpoint's address):
/// what a log line is keyed on, so a rollout that changes which endpoint lacks a hint is not a new routing.</param>
internal sealed record TopologyDecision(bool[] IsLocal, int LocalCount, string Why, bool HintsIgnored = false, string Rule = "")
{
    /// <summary>Whether topology narrows the set.</summary>
    public bool Narrows => LocalCount > 0;

    /// <summary>Decides for <paramref name="endpoints"/> (the metadata of each address, <see langword="null"/> when
    /// it has none).</summary>
    public static TopologyDecision Decide(TopologyPolicy policy, IReadOnlyList<KubernetesEndpoint?> endpoints)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(endpoints);
        var isLocal = new bool[endpoints.Count];
        if (policy.Mode == TopologyMode.Off) return new TopologyDecision(isLocal, 0, "topology is off");
        if (policy.Mode == TopologyMode.PreferLocal) return PreferLocal(policy, endpoints, isLocal);

        var metadata = new KubernetesEndpoint[endpoints.Count];
        for (var i = 0; i < endpoints.Count; i++) metadata[i] = endpoints[i] ?? NoMetadata;
        var choice = TopologySelection.Select(metadata, policy.Zone, policy.Node);
        if (!choice.IsLocal)
        {
            var hintsIgnored = choice.Rule is TopologyRule.MissingHints or TopologyRule.UnknownZone or TopologyRule.NoLocalEndpoints;
            return new TopologyDecision(isLocal, 0, WhyAll(choice.Rule, metadata, policy), hintsIgnored, choice.Rule.ToString());
        }

        // The choice keeps the input's order and instances: mark them by reference.
        var chosen = new HashSet<KubernetesEndpoint>(choice.Endpoints, ReferenceEqualityComparer.Instance);
        for (var i = 0; i < metadata.Length; i++) isLocal[i] = chosen.Contains(metadata[i]);
        var why = choice.Rule == TopologyRule.Node
            ? $"hinted for node {policy.Node}, kube-proxy's node rule"
            : $"hinted for zone {policy.Zone}, kube-proxy's zone rule";
        return new TopologyDecision(isLocal, chosen.Count, why);
    }

    // An address without metadata: ready, no zone, no hints (so kube-proxy's rules use every endpoint).
    private static readonly KubernetesEndpoint NoMetadata = new(new System.Net.IPEndPoint(System.Net.IPAddress.None, 0));

    private static TopologyDecision PreferLocal(TopologyPolicy policy, IReadOnlyList<KubernetesEndpoint?> endpoints, bool[] isLocal)
    {
        if (policy.Zone is null) return new TopologyDecision(isLocal, 0, "the client's zone is unknown");
        var count = 0;
        for (var i = 0; i < endpoints.Count; i++)
        {
            // Like kube-proxy, only ready endpoints are placed; the serving-and-terminating fallback ignores zones.
            if (endpoints[i] is { Ready: true } endpoint && string.Equals(endpoint.Zone, policy.Zone, StringComparison.Ordinal))
            {
                isLocal[i] = true;
                count++;
            }
        }

        return count == 0
            ? new TopologyDecision(isLocal, 0, $"no ready endpoint is in zone {policy.Zone}")
            : new TopologyDecision(isLocal, count, $"in zone {policy.Zone}");
    }

    private static string WhyAll(TopologyRule rule, KubernetesEndpoint[] endpoints, TopologyPolicy policy) => rule switch
    {
        TopologyRule.MissingHints => $"{FirstWithoutZoneHint(endpoints)} has no zone hint, so kube-proxy's rule uses every endpoint",
        TopologyRule.UnknownZone => "the client's zone is unknown",
        TopologyRule.NoLocalEndpoints => $"no endpoint is hinted for zone {policy.Zone}",
        TopologyRule.ServingTerminating => "no endpoint is ready (serving and terminating endpoints ignore topology)",
        TopologyRule.NoEndpoints => "there are no endpoints",
        _ => "no endpoint has a zone hint",
    };

    private static string FirstWithoutZoneHint(KubernetesEndpoint[] endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            if (!endpoint.Ready || endpoint.ZoneHints.Count > 0) continue;

            // The stand-in for an address without metadata has no endpoint of its own to name.
            return ReferenceEquals(endpoint, NoMetadata) ? "an address without endpoint metadata" : $"endpoint {endpoint.EndPoint}";
        }

        return "an endpoint";
    }
}
