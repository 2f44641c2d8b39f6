namespace FaceIndex.Cluster;

/// <summary>A node of the cluster as Orleans membership lists it.</summary>
/// <param name="Name">The node's name (<c>--node</c>).</param>
/// <param name="Status">"active", "joining", "starting", "stopping" or "dead".</param>
/// <param name="Address">The node's silo endpoint.</param>
/// <param name="StartedAt">When this incarnation of the node started.</param>
public sealed record NodeStatus(string Name, string Status, string Address, DateTimeOffset StartedAt)
{
    /// <summary>The word for a membership status.</summary>
    internal static string Describe(SiloStatus status) => status switch
    {
        SiloStatus.Active => "active",
        SiloStatus.Joining => "joining",
        SiloStatus.Created => "starting",
        SiloStatus.ShuttingDown or SiloStatus.Stopping => "stopping",
        SiloStatus.Dead => "dead",
        _ => "unknown",
    };
}
