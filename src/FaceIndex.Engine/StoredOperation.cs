using System.Text;
using FaceIndex.Clustering;

namespace FaceIndex.Engine;

/// <summary>
/// A background operation's record as persisted in the store's blob <c>operations/&lt;id&gt;</c>:
/// written (durably) before StartClustering or MigrateCollection answers and again when the run ends, so that
/// GetOperation answers for operations from before a restart, and a run that a crash or shutdown
/// cut short is reported as failed instead of vanishing.
/// </summary>
/// <remarks>Binary layout (little-endian): "FIOP0002", id, collection, algorithm, threshold, k, seed, state, phase, progress, error, created ticks, finished ticks (0 = none), count (clusters found or faces migrated), kind, target collection, target model. "FIOP0001" records (written before migrations existed) end after the count and are clustering runs.</remarks>
internal readonly record struct StoredOperation(
    string Id,
    string Collection,
    ClusteringAlgorithm Algorithm,
    float Threshold,
    int K,
    int Seed,
    JobState State,
    string Phase,
    double Progress,
    string Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    long Count)
{
    /// <summary>The prefix of every operation record.</summary>
    public const string Prefix = "operations/";

    private const string Magic = "FIOP0002";
    private const string MagicBeforeMigrations = "FIOP0001";

    /// <summary>What the operation does.</summary>
    public JobKind Kind { get; init; }

    /// <summary>A migration's new collection ("" for clustering).</summary>
    public string TargetCollection { get; init; } = "";

    /// <summary>A migration's model ("" for clustering).</summary>
    public string TargetModel { get; init; } = "";

    public static string Key(string id) => Prefix + id;

    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Id);
            writer.Write(Collection);
            writer.Write((int)Algorithm);
            writer.Write(Threshold);
            writer.Write(K);
            writer.Write(Seed);
            writer.Write((int)State);
            writer.Write(Phase);
            writer.Write(Progress);
            writer.Write(Error);
            writer.Write(CreatedAt.UtcTicks);
            writer.Write(FinishedAt?.UtcTicks ?? 0L);
            writer.Write(Count);
            writer.Write((int)Kind);
            writer.Write(TargetCollection);
            writer.Write(TargetModel);
        }

        return buffer.ToArray();
    }

    /// <summary>Reads what <see cref="Serialize"/> wrote; null when the bytes are not such a record.</summary>
    public static StoredOperation? Deserialize(byte[] bytes)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            var magic = reader.ReadString();
            if (magic != Magic && magic != MagicBeforeMigrations)
            {
                return null;
            }

            var id = reader.ReadString();
            var collection = reader.ReadString();
            var algorithm = (ClusteringAlgorithm)reader.ReadInt32();
            float threshold = reader.ReadSingle();
            int k = reader.ReadInt32();
            int seed = reader.ReadInt32();
            var state = (JobState)reader.ReadInt32();
            var phase = reader.ReadString();
            double progress = reader.ReadDouble();
            var error = reader.ReadString();
            var created = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
            long finishedTicks = reader.ReadInt64();
            long clusters = reader.ReadInt64();
            DateTimeOffset? finished = finishedTicks == 0 ? null : new DateTimeOffset(finishedTicks, TimeSpan.Zero);
            var (kind, target, targetModel) = magic == Magic ? ((JobKind)reader.ReadInt32(), reader.ReadString(), reader.ReadString()) : (JobKind.Clustering, "", "");
            return Enum.IsDefined(state) && Enum.IsDefined(algorithm) && Enum.IsDefined(kind)
                ? new StoredOperation(id, collection, algorithm, threshold, k, seed, state, phase, progress, error, created, finished, clusters) { Kind = kind, TargetCollection = target, TargetModel = targetModel }
                : null;
        }
        catch (Exception ex) when (ex is EndOfStreamException or FormatException or IOException)
        {
            return null;
        }
    }
}
