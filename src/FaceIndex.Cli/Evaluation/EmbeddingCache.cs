using System.Collections.Concurrent;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Evaluation;

/// <summary>
/// The evaluator's embedding cache, one file per pipeline fingerprint: "FIEC0004", entry count (int32),
/// then per entry: key (string: path|size|mtime), outcome (byte), mirror flag (byte), the floats of the
/// plain embedding when readable (512, or 128 for the dlib model: one file holds one model's), as many more
/// when the mirror flag is set, then when readable the face's quality measurements (6 floats: detector
/// score, face size, yaw, pitch, roll, sharpness).
/// </summary>
internal sealed class EmbeddingCache
{
    private const string Magic = "FIEC0004";
    private readonly int _dimensions;

    private readonly ConcurrentDictionary<string, ImageEmbedding> _entries = new(StringComparer.Ordinal);
    private int _hits;
    private int _dirty;

    private EmbeddingCache(string path, int dimensions)
    {
        Path = path;
        _dimensions = dimensions;
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    public int Hits => _hits;

    /// <summary>Reads the file; a missing, foreign or cut-short file gives the entries read so far.</summary>
    public static EmbeddingCache Load(string path, int dimensions = 512)
    {
        var cache = new EmbeddingCache(path, dimensions);
        if (!File.Exists(path))
        {
            return cache;
        }

        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadString() != Magic)
            {
                return cache;
            }

            int count = reader.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var outcome = (ImageOutcome)reader.ReadByte();
                bool hasMirror = reader.ReadByte() != 0;
                var plain = outcome == ImageOutcome.Unreadable ? [] : ReadVector(reader, dimensions);
                var mirrored = hasMirror ? ReadVector(reader, dimensions) : null;
                FaceQuality? quality = null;
                if (outcome != ImageOutcome.Unreadable)
                {
                    float score = reader.ReadSingle(), size = reader.ReadSingle();
                    var pose = new HeadPose(reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle());
                    quality = FaceQuality.Assess(score, size, pose, reader.ReadSingle());
                }

                cache._entries[key] = new ImageEmbedding(outcome, plain, mirrored, quality);
            }
        }
        catch (EndOfStreamException)
        {
            // A cache cut short (interrupted run) keeps the entries read so far.
        }

        return cache;
    }

    public bool TryGet(string key, out ImageEmbedding value)
    {
        if (_entries.TryGetValue(key, out value!))
        {
            Interlocked.Increment(ref _hits);
            return true;
        }

        return false;
    }

    public void Add(string key, ImageEmbedding value)
    {
        _entries[key] = value;
        Volatile.Write(ref _dirty, 1);
    }

    /// <summary>Writes the file (through a temporary file, so that an interrupted write loses nothing).</summary>
    public void Save()
    {
        if (Interlocked.Exchange(ref _dirty, 0) == 0)
        {
            return;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var temp = Path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            var entries = _entries.ToArray();
            writer.Write(Magic);
            writer.Write(entries.Length);
            foreach (var (key, value) in entries)
            {
                writer.Write(key);
                writer.Write((byte)value.Outcome);
                writer.Write((byte)(value.Mirrored is null ? 0 : 1));
                WriteVector(writer, value.Plain);
                if (value.Mirrored is { } mirrored)
                {
                    WriteVector(writer, mirrored);
                }

                if (value.Outcome != ImageOutcome.Unreadable)
                {
                    var q = value.Quality!;
                    writer.Write(q.DetectionScore);
                    writer.Write(q.FaceSize);
                    writer.Write(q.Pose.Yaw);
                    writer.Write(q.Pose.Pitch);
                    writer.Write(q.Pose.Roll);
                    writer.Write(q.Sharpness);
                }
            }
        }

        File.Move(temp, Path, overwrite: true);
    }

    private static float[] ReadVector(BinaryReader reader, int dimensions)
    {
        var v = new float[dimensions];
        for (int j = 0; j < v.Length; j++)
        {
            v[j] = reader.ReadSingle();
        }

        return v;
    }

    private static void WriteVector(BinaryWriter writer, float[] v)
    {
        foreach (var x in v)
        {
            writer.Write(x);
        }
    }
}
