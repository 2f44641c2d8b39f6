using System.Security.Cryptography;
using System.Text;

namespace FaceIndex.Engine;

/// <summary>A cluster as the API shows it.</summary>
/// <param name="Id">Dense id; 0 is the largest cluster.</param>
/// <param name="Size">Member faces.</param>
/// <param name="Representative">The member closest to the centroid.</param>
/// <param name="SuggestedPerson">The enrolled person the cluster most likely is, or "".</param>
/// <param name="SuggestedDistance">Distance between the cluster's and the person's mean directions.</param>
/// <param name="MemberStart">Offset of the cluster's members in <see cref="StoredClustering.Members"/>.</param>
public readonly record struct StoredCluster(int Id, int Size, long Representative, string SuggestedPerson, float SuggestedDistance, int MemberStart);

/// <summary>
/// The latest clustering result of a collection, as persisted in the store's blobs: a pointer blob
/// <c>clusters/&lt;h&gt;/current</c> naming the operation, and the result itself in parts of at most
/// <see cref="PartBytes"/> under <c>clusters/&lt;h&gt;/&lt;operation&gt;/&lt;part&gt;</c> (h = hex of the
/// collection name's SHA-256, first 16 bytes). The pointer is written last, so a crash mid-way
/// keeps the previous result.
/// </summary>
/// <remarks>Binary layout (little-endian): "FICL0001", operation id, created ticks, cluster count, then per cluster size, representative, suggested person, suggested distance; then every member face id in cluster order.</remarks>
public sealed class StoredClustering
{
    public const int PartBytes = 512 * 1024;
    private const string Magic = "FICL0001";

    public StoredClustering(string operationId, DateTimeOffset createdAt, StoredCluster[] clusters, long[] members)
    {
        OperationId = operationId;
        CreatedAt = createdAt;
        Clusters = clusters;
        Members = members;
    }

    public string OperationId { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>Largest first.</summary>
    public StoredCluster[] Clusters { get; }

    public long[] Members { get; }

    public ReadOnlySpan<long> MembersOf(in StoredCluster cluster) => Members.AsSpan(cluster.MemberStart, cluster.Size);

    /// <summary>The prefix of every blob of a collection's clustering.</summary>
    public static string Prefix(string collection) =>
        "clusters/" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collection)).AsSpan(0, 16)) + "/";

    public static string PointerKey(string collection) => Prefix(collection) + "current";

    public static string PartKey(string collection, string operationId, int part) => $"{Prefix(collection)}{operationId}/{part:D6}";

    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(OperationId);
            writer.Write(CreatedAt.UtcTicks);
            writer.Write(Clusters.Length);
            foreach (var cluster in Clusters)
            {
                writer.Write(cluster.Size);
                writer.Write(cluster.Representative);
                writer.Write(cluster.SuggestedPerson);
                writer.Write(cluster.SuggestedDistance);
            }

            foreach (long member in Members)
            {
                writer.Write(member);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Reads what <see cref="Serialize"/> wrote; null when the bytes are not such a result.</summary>
    public static StoredClustering? Deserialize(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (reader.ReadString() != Magic)
            {
                return null;
            }

            var operationId = reader.ReadString();
            var createdAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            int count = reader.ReadInt32();
            var clusters = new StoredCluster[count];
            int start = 0;
            for (int i = 0; i < count; i++)
            {
                int size = reader.ReadInt32();
                clusters[i] = new StoredCluster(i, size, reader.ReadInt64(), reader.ReadString(), reader.ReadSingle(), start);
                start += size;
            }

            var members = new long[start];
            for (int i = 0; i < members.Length; i++)
            {
                members[i] = reader.ReadInt64();
            }

            return new StoredClustering(operationId, createdAt, clusters, members);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }
}
