namespace FaceIndex.Cluster;

/// <summary>A face to enrol, as it travels between nodes.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardNewFace
{
    /// <summary>The 128-byte code.</summary>
    [Id(0)] public required byte[] Vector { get; init; }

    /// <summary>Box in the source image (x, y, width, height), or null.</summary>
    [Id(1)] public float[]? Box { get; init; }

    /// <summary>Detector confidence; 0 for a face given as a vector.</summary>
    [Id(2)] public float DetectionScore { get; init; }
}

/// <summary>An enrolment of faces of one person, routed to the person's shard.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardAddFaces
{
    /// <summary>Person id.</summary>
    [Id(0)] public required string PersonId { get; init; }

    /// <summary>The faces.</summary>
    [Id(1)] public required IReadOnlyList<ShardNewFace> Faces { get; init; }

    /// <summary>Model version of the codes.</summary>
    [Id(2)] public required string ModelVersion { get; init; }

    /// <summary>SHA-256 of the source image, or null.</summary>
    [Id(3)] public byte[]? ContentHash { get; init; }

    /// <summary>Tags stored with each face, or null.</summary>
    [Id(4)] public IReadOnlyDictionary<string, string>? Tags { get; init; }
}

/// <summary>The outcome of an enrolment: the cluster face ids and whether the image was a duplicate.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardAddResult([property: Id(0)] IReadOnlyList<long> FaceIds, [property: Id(1)] bool Duplicate);

/// <summary>One search result of a shard: cluster face id, int8 dot-product score and person id.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ShardHit([property: Id(0)] long FaceId, [property: Id(1)] int Score, [property: Id(2)] string PersonId);

/// <summary>One entry of a primary's change feed, as shipped to its replicas: its position, the position after it, and its bytes.</summary>
[GenerateSerializer, Immutable]
public sealed record ShippedEntry([property: Id(0)] long Position, [property: Id(1)] long NextPosition, [property: Id(2)] byte[] Entry);

/// <summary>A page of a primary's feed; <see cref="Truncated"/> when its log no longer covers the position asked for.</summary>
[GenerateSerializer, Immutable]
public sealed record ShippedFeed([property: Id(0)] IReadOnlyList<ShippedEntry> Entries, [property: Id(1)] bool Truncated, [property: Id(2)] long LastPosition);

/// <summary>A probe compared with a person's faces on the person's shard: the nearest face (cluster id) and its squared L2 distance.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardVerify([property: Id(0)] long ClosestFaceId, [property: Id(1)] float Distance);

/// <summary>A person as a shard holds it.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardPerson
{
    /// <summary>Person id.</summary>
    [Id(0)] public required string PersonId { get; init; }

    /// <summary>Cluster ids of its live faces.</summary>
    [Id(1)] public required IReadOnlyList<long> FaceIds { get; init; }

    /// <summary>Display metadata.</summary>
    [Id(2)] public required IReadOnlyDictionary<string, string> Metadata { get; init; }
}

/// <summary>The state of one replica: counts, log positions, role and catch-up state.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaStatus
{
    /// <summary>Node that holds it.</summary>
    [Id(0)] public required string Node { get; init; }

    /// <summary>Shard index.</summary>
    [Id(1)] public required int Shard { get; init; }

    /// <summary>"primary" or "replica".</summary>
    [Id(2)] public required string Role { get; init; }

    /// <summary>"in-sync", "catching-up", "needs-full-copy" or "down".</summary>
    [Id(3)] public required string State { get; init; }

    /// <summary>Live faces of the collection in this replica's store.</summary>
    [Id(4)] public long Faces { get; init; }

    /// <summary>Persons of the collection in this replica's store.</summary>
    [Id(5)] public long Persons { get; init; }

    /// <summary>Faces in the graph.</summary>
    [Id(6)] public long Indexed { get; init; }

    /// <summary>Faces searched exactly until the graph holds them.</summary>
    [Id(7)] public long Pending { get; init; }

    /// <summary>The position after the last entry of this replica's own log (where its feed continues).</summary>
    [Id(8)] public long LastPosition { get; init; }

    /// <summary>The primary's position after the last entry this replica applied from it (0 when it never followed one).</summary>
    [Id(9)] public long ReplicatedPosition { get; init; }

    /// <summary>Bytes of the primary's log this replica has not applied (0 on the primary); -1 when unknown.</summary>
    [Id(10)] public long Lag { get; init; }

    /// <summary>Why the replica is not serving, when it is not.</summary>
    [Id(11)] public string? Reason { get; init; }
}
