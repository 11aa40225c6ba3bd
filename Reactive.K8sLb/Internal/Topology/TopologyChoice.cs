namespace Reactive.K8sLb.Internal.Topology;

/// <summary>The outcome of <see cref="TopologySelection.Select"/>: the endpoints to use, in their input order, and the
/// rule that chose them.</summary>
/// <param name="Endpoints">The endpoints to use; empty only with <see cref="TopologyRule.NoEndpoints"/>.</param>
/// <param name="Rule">Which rule chose them, or why the topology was ignored.</param>
internal sealed record TopologyChoice(IReadOnlyList<KubernetesEndpoint> Endpoints, TopologyRule Rule)
{
    /// <summary>Whether the topology narrowed the set (<see cref="TopologyRule.Node"/> or <see cref="TopologyRule.Zone"/>).</summary>
    public bool IsLocal => Rule is TopologyRule.Node or TopologyRule.Zone;
}
