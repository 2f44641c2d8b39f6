namespace FaceIndex.Cluster;

/// <summary>A sharded collection: its shard count, replication factor and where each shard's replicas live.</summary>
[GenerateSerializer, Immutable]
public sealed record CollectionLayout
{
    /// <summary>Collection name.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>Model version every face of the collection must carry.</summary>
    [Id(1)] public required string ModelVersion { get; init; }

    /// <summary>When it was created.</summary>
    [Id(2)] public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Replicas of each shard.</summary>
    [Id(3)] public required int Replication { get; init; }

    /// <summary>The shards, by index; their count is fixed at creation.</summary>
    [Id(4)] public required IReadOnlyList<ShardLayout> Shards { get; init; }
}

/// <summary>One shard's replicas: the nodes that hold it, which one is primary and which are in sync.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardLayout
{
    /// <summary>Node names holding a replica, in preference order (distinct nodes).</summary>
    [Id(0)] public required IReadOnlyList<string> Replicas { get; init; }

    /// <summary>The node whose replica takes writes.</summary>
    [Id(1)] public required string Primary { get; init; }

    /// <summary>Replicas (the primary included) that hold every acknowledged write.</summary>
    [Id(2)] public required IReadOnlyList<string> InSync { get; init; }

    /// <summary>Incremented at each change of primary or of the in-sync set.</summary>
    [Id(3)] public required long Epoch { get; init; }

    /// <summary>
    /// Where the current primary took over: the previous primary's log position it had applied, and its
    /// own log position at that moment. A replica whose log ends exactly at <see cref="PromotedFrom"/>
    /// holds the same entries and follows the new primary from <see cref="PromotedAt"/>.
    /// </summary>
    [Id(4)] public long PromotedFrom { get; init; } = -1;

    /// <inheritdoc cref="PromotedFrom"/>
    [Id(5)] public long PromotedAt { get; init; } = -1;

    /// <summary>The node that was primary before <see cref="Primary"/>, or null.</summary>
    [Id(6)] public string? PreviousPrimary { get; init; }

    /// <summary>Incremented at each change of primary only: a follower refuses entries of an earlier term.</summary>
    [Id(7)] public long Term { get; init; } = 1;
}
