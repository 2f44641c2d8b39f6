using FaceIndex.Engine;
using FaceIndex.Index;
using FaceIndex.Storage;

namespace FaceIndex.Cluster;

/// <summary>How many copies of a write must be durable before it is acknowledged.</summary>
public enum WriteAcknowledgement
{
    /// <summary>Every in-sync replica of the shard (at least the primary): the default.</summary>
    All,

    /// <summary>A majority of the shard's replication factor, counting the primary.</summary>
    Majority,
}

/// <summary>
/// Settings of one cluster node. The host binds them from configuration (section <c>Cluster</c>);
/// the grains only read them.
/// </summary>
/// <remarks>
/// Adding a setting: add the property with its default and a <c>///</c> line saying what it does and
/// its unit; check it in <see cref="Validate"/> with a message that names it; use it; document it in
/// docs/cluster.md.
/// </remarks>
public sealed class ClusterNodeOptions
{
    /// <summary>Folder under which this node keeps its shard replicas (<c>shards/&lt;collection&gt;/&lt;n&gt;/</c>). Default "data".</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>When true, the node's name is appended to <see cref="DataDirectory"/> (several nodes in one process, as in tests).</summary>
    public bool DirectoryPerNode { get; set; }

    /// <summary>Shards of a collection created without a shard count. Default 4.</summary>
    public int DefaultShards { get; set; } = 4;

    /// <summary>Replicas of each shard of a collection created without a replication factor. Default 2.</summary>
    public int DefaultReplication { get; set; } = 2;

    /// <summary>Copies that must be durable before a write is acknowledged. Default <see cref="WriteAcknowledgement.All"/>.</summary>
    public WriteAcknowledgement WriteAcknowledgement { get; set; } = WriteAcknowledgement.All;

    /// <summary>Longest wait for one replica's answer to a search before another replica is asked. Default 2 s.</summary>
    public TimeSpan ReplicaDeadline { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait for a follower to confirm a shipped batch before it is dropped from the in-sync set. Default 5 s.</summary>
    public TimeSpan ShipTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Interval at which a node checks that its replicas are open and caught up. Default 2 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Store settings of each shard replica (its <see cref="StorageOptions.DataDirectory"/> is set per shard).</summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>HNSW parameters of each shard replica.</summary>
    public IndexOptions Index { get; set; } = new();

    /// <summary>Indexing settings of each shard replica.</summary>
    public IndexingOptions Indexing { get; set; } = new();

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("Cluster:DataDirectory must name a folder.", nameof(DataDirectory));
        }

        if (DefaultShards is < 1 or > ShardRouting.MaxShards)
        {
            throw new ArgumentException($"Cluster:DefaultShards must be between 1 and {ShardRouting.MaxShards}; it is {DefaultShards}.", nameof(DefaultShards));
        }

        if (DefaultReplication is < 1 or > ShardRouting.MaxReplication)
        {
            throw new ArgumentException($"Cluster:DefaultReplication must be between 1 and {ShardRouting.MaxReplication}; it is {DefaultReplication}.", nameof(DefaultReplication));
        }

        if (ReplicaDeadline <= TimeSpan.Zero || ShipTimeout <= TimeSpan.Zero || ReconcileInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("Cluster:ReplicaDeadline, Cluster:ShipTimeout and Cluster:ReconcileInterval must be positive.");
        }

        Storage.Validate();
        Index.Validate();
        Indexing.Validate();
    }
}
