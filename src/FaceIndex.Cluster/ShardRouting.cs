using System.IO.Hashing;
using System.Text;

namespace FaceIndex.Cluster;

/// <summary>
/// Where a person and a face live: the shard of a person is a stable hash of its id, and a face id
/// carries its shard, so that every node routes the same way without asking anyone.
/// </summary>
/// <remarks>
/// A cluster face id is <c>localId × shards + shard</c>, where <c>localId</c> is the id the shard's
/// store assigned (the same on every replica, since replicas apply the primary's resolved entries).
/// </remarks>
public static class ShardRouting
{
    /// <summary>Most shards per collection.</summary>
    public const int MaxShards = 1024;

    /// <summary>Most replicas per shard.</summary>
    public const int MaxReplication = 5;

    /// <summary>The shard of a person: XxHash64 of its UTF-8 id (seed 0) modulo the shard count. Never changes.</summary>
    public static int ShardOf(string personId, int shards)
    {
        ArgumentNullException.ThrowIfNull(personId);
        Span<byte> buffer = personId.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(personId.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(personId.Length)];
        int length = Encoding.UTF8.GetBytes(personId, buffer);
        return (int)(XxHash64.HashToUInt64(buffer[..length]) % (ulong)shards);
    }

    /// <summary>The cluster id of a face that shard <paramref name="shard"/> stores under <paramref name="localId"/>.</summary>
    public static long GlobalFaceId(long localId, int shard, int shards) => checked((localId * shards) + shard);

    /// <summary>The shard of a cluster face id.</summary>
    public static int ShardOfFace(long globalId, int shards) => (int)(globalId % shards);

    /// <summary>The id a shard's store gives a cluster face id.</summary>
    public static long LocalFaceId(long globalId, int shards) => globalId / shards;
}
