namespace Reactive.K8sLb.Internal.Topology;

/// <summary>
/// kube-proxy's choice of the endpoints a node sends Cluster-policy traffic to, taking topology hints into account:
/// <c>CategorizeEndpoints</c>, <c>topologyModeFromHints</c> and <c>availableForTopology</c> in kubernetes/kubernetes
/// <c>pkg/proxy/topology.go</c> (the version with <c>hints.forNodes</c>, Kubernetes 1.33+; the
/// <c>PreferSameTrafficDistribution</c> gate is GA in 1.35, so the node rule is always on here). Pure: the same input
/// gives the same output, and the choice is made again from scratch for every new endpoint set.
/// </summary>
/// <remarks>
/// <para>The rules, in the order kube-proxy applies them:</para>
/// <list type="number">
/// <item>Only ready endpoints are considered when deciding the mode; the hints of endpoints that are not ready do not
/// count, neither for "every endpoint has a hint" nor for "some endpoint is for us".</item>
/// <item>No ready endpoint: no topology.</item>
/// <item>Every ready endpoint has at least one node hint and one of them is for the client's node: those endpoints.</item>
/// <item>Else every ready endpoint has at least one zone hint and one of them is for the client's zone: those endpoints.</item>
/// <item>Else every ready endpoint. The decision is made for the whole set, never per endpoint: one endpoint without a
/// hint turns topology off for all of them.</item>
/// <item>If that leaves nothing (which happens only when no endpoint is ready), the endpoints that are serving and
/// terminating, ignoring topology.</item>
/// </list>
/// <para>kube-proxy reads neither the Service's <c>trafficDistribution</c> (<c>PreferClose</c>, <c>PreferSameZone</c>,
/// <c>PreferSameNode</c>) nor the old topology annotation here: the EndpointSlice controller turns those into hints, and
/// the hints are the only input. <c>PreferSameZone</c> and <c>PreferSameNode</c> are just the names of the two modes.
/// A client whose node or zone is unknown matches no hint (kube-proxy looks up an empty name), so that rule does not
/// apply. kube-proxy's Local traffic policy (<c>internalTrafficPolicy</c>/<c>externalTrafficPolicy: Local</c>) is about
/// node-local delivery of packets a node receives; it has no meaning for a client-side balancer and is left out.</para>
/// </remarks>
internal static class TopologySelection
{
    /// <summary>Chooses the endpoints a client on <paramref name="clientNode"/> in <paramref name="clientZone"/> uses.</summary>
    /// <param name="endpoints">Every endpoint of the Service, whatever its conditions.</param>
    /// <param name="clientZone">The client's zone, or <see langword="null"/> (or empty) when unknown.</param>
    /// <param name="clientNode">The client's node, or <see langword="null"/> (or empty) when unknown.</param>
    /// <returns>The endpoints to use, in their input order, and the rule that chose them.</returns>
    public static TopologyChoice Select(IReadOnlyList<KubernetesEndpoint> endpoints, string? clientZone, string? clientNode)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var zone = string.IsNullOrEmpty(clientZone) ? null : clientZone;
        var node = string.IsNullOrEmpty(clientNode) ? null : clientNode;

        var rule = ChooseRule(endpoints, zone, node);
        if (rule is TopologyRule.ServingTerminating)
        {
            // topology.go: when the ready (and topology-filtered) set is empty, fall back to the serving and
            // terminating endpoints, and do not apply topology to them: the fallback is a best effort to keep serving.
            var servingTerminating = Filter(endpoints, static (e, _, _) => e.Serving && e.Terminating, zone, node);
            return new TopologyChoice(servingTerminating, servingTerminating.Count > 0 ? TopologyRule.ServingTerminating : TopologyRule.NoEndpoints);
        }

        // topology.go availableForTopology: the mode decided for the whole set is then applied to each ready endpoint,
        // with no fallback of its own (the fallback happened when choosing the mode).
        var chosen = rule switch
        {
            TopologyRule.Node => Filter(endpoints, static (e, _, n) => e.Ready && Has(e.NodeHints, n), zone, node),
            TopologyRule.Zone => Filter(endpoints, static (e, z, _) => e.Ready && Has(e.ZoneHints, z), zone, node),
            _ => Filter(endpoints, static (e, _, _) => e.Ready, zone, node),
        };
        return new TopologyChoice(chosen, rule);
    }

    // topology.go topologyModeFromHints: one pass over the ready endpoints, then node before zone before nothing.
    private static TopologyRule ChooseRule(IReadOnlyList<KubernetesEndpoint> endpoints, string? zone, string? node)
    {
        var anyReady = false;
        var everyReadyHasNodeHint = true;
        var someForNode = false;
        var everyReadyHasZoneHint = true;
        var someHasZoneHint = false;
        var someForZone = false;
        foreach (var endpoint in endpoints)
        {
            // Rule 1: only ready endpoints decide the mode.
            if (!endpoint.Ready) continue;
            anyReady = true;

            if (endpoint.NodeHints.Count == 0) everyReadyHasNodeHint = false;
            else if (Has(endpoint.NodeHints, node)) someForNode = true;

            if (endpoint.ZoneHints.Count == 0)
            {
                everyReadyHasZoneHint = false;
            }
            else
            {
                someHasZoneHint = true;
                if (Has(endpoint.ZoneHints, zone)) someForZone = true;
            }
        }

        // Rule 2: nothing ready, no hints to consider; the caller falls back to serving and terminating endpoints.
        if (!anyReady) return TopologyRule.ServingTerminating;

        // Rule 3: same node, when every ready endpoint has a node hint and at least one is for this node.
        if (everyReadyHasNodeHint && someForNode) return TopologyRule.Node;

        // Rule 4: same zone, when every ready endpoint has a zone hint and at least one is for this zone. kube-proxy
        // logs why it ignores the zone hints; the rules below carry the same reasons, in the same order.
        if (everyReadyHasZoneHint)
        {
            if (someForZone) return TopologyRule.Zone;
            return zone is null ? TopologyRule.UnknownZone : TopologyRule.NoLocalEndpoints;
        }

        // Rule 5: every ready endpoint; say whether hints were partly there or not there at all.
        return someHasZoneHint ? TopologyRule.MissingHints : TopologyRule.All;
    }

    // Hint names are Kubernetes object names: compared ordinally. An unknown name matches nothing, as kube-proxy's
    // lookup of an empty name does.
    private static bool Has(IReadOnlyList<string> hints, string? name)
    {
        if (name is null) return false;
        foreach (var hint in hints)
        {
            if (string.Equals(hint, name, StringComparison.Ordinal)) return true;
        }

        return false;
    }

    private static List<KubernetesEndpoint> Filter(
        IReadOnlyList<KubernetesEndpoint> endpoints,
        Func<KubernetesEndpoint, string?, string?, bool> keep,
        string? zone,
        string? node)
    {
        var kept = new List<KubernetesEndpoint>(endpoints.Count);
        foreach (var endpoint in endpoints)
        {
            if (keep(endpoint, zone, node)) kept.Add(endpoint);
        }

        return kept;
    }
}
