using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace FaceIndex.Cluster.Internal;

/// <summary>Places a replica grain on the node named in its key (the node that holds its data), and nowhere else.</summary>
[GenerateSerializer, Immutable]
internal sealed class NodePlacementStrategy : PlacementStrategy
{
    internal static readonly NodePlacementStrategy Instance = new();
}

/// <summary>Marks a grain class as placed by <see cref="NodePlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class NodePlacementAttribute : PlacementAttribute
{
    public NodePlacementAttribute()
        : base(NodePlacementStrategy.Instance)
    {
    }
}

/// <summary>
/// Finds the active silo whose name is the node of the replica key. When that node is not active the
/// activation fails with <see cref="NodeUnavailableException"/>: a replica's data lives on one node, so it is never
/// activated elsewhere; the caller turns to another replica.
/// </summary>
internal sealed class NodePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString() ?? string.Empty;
        if (!ReplicaKey.TryParse(key, out _, out _, out var node))
        {
            throw new NodeUnavailableException($"'{key}' is not a replica key.");
        }

        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && string.Equals(member.Name, node, StringComparison.Ordinal) && compatible.Contains(member.SiloAddress))
            {
                return Task.FromResult(member.SiloAddress);
            }
        }

        throw new NodeUnavailableException($"Node '{node}' is not active in the cluster.");
    }
}
