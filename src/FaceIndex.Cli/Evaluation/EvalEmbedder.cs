using System.Collections.Concurrent;
using FaceIndex.Core;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Evaluation;

/// <summary>How one evaluation image turned out.</summary>
internal enum ImageOutcome : byte
{
    /// <summary>A face was detected; the largest one is used.</summary>
    Face,

    /// <summary>No face was detected; the centre crop was used instead.</summary>
    CentreCrop,

    /// <summary>The file could not be read or decoded.</summary>
    Unreadable,
}

/// <summary>The unit 512-D embedding of an image's largest face (empty when unreadable).</summary>
internal sealed record ImageEmbedding(ImageOutcome Outcome, float[] Embedding512);

/// <summary>
/// Embeds evaluation images (largest face, centre crop when none is found) with a persistent
/// cache keyed by path, size and modification time, so that a re-run is quick.
/// </summary>
internal sealed class EvalEmbedder
{
    private readonly FacePipeline _pipeline;
    private readonly EmbeddingCache? _cache;

    public EvalEmbedder(FacePipeline pipeline, string? cachePath)
    {
        _pipeline = pipeline;
        _cache = cachePath is null ? null : EmbeddingCache.Load(cachePath);
    }

    /// <summary>Cache entries reused in this run.</summary>
    public int CacheHits => _cache?.Hits ?? 0;

    public FacePipeline Pipeline => _pipeline;

    public async Task<ImageEmbedding> EmbedAsync(string path, CancellationToken ct)
    {
        var info = new FileInfo(path);
        var key = info.Exists ? $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}" : info.FullName;
        if (_cache is not null && _cache.TryGet(key, out var cached))
        {
            return cached;
        }

        ImageEmbedding result;
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            var analysis = await _pipeline.AnalyzeCoreAsync(bytes, centreCropFallback: true, ct).ConfigureAwait(false);
            result = new ImageEmbedding(analysis.UsedFallback ? ImageOutcome.CentreCrop : ImageOutcome.Face, analysis.Faces[0].Embedding512);
        }
        catch (Exception ex) when (ex is FaceIndexException or IOException)
        {
            result = new ImageEmbedding(ImageOutcome.Unreadable, []);
        }

        _cache?.Add(key, result);
        return result;
    }

    /// <summary>Writes the cache back to disk.</summary>
    public void SaveCache() => _cache?.Save();
}

/// <summary>The embedding cache file: "FIEC0001", then per entry: key (string), outcome (byte), 512 floats when readable.</summary>
internal sealed class EmbeddingCache
{
    private readonly string _path;
    private readonly ConcurrentDictionary<string, ImageEmbedding> _entries = new(StringComparer.Ordinal);
    private int _hits;
    private bool _dirty;

    private EmbeddingCache(string path) => _path = path;

    public int Hits => _hits;

    public static EmbeddingCache Load(string path)
    {
        var cache = new EmbeddingCache(path);
        if (!File.Exists(path))
        {
            return cache;
        }

        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadString() != "FIEC0001")
            {
                return cache;
            }

            int count = reader.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var outcome = (ImageOutcome)reader.ReadByte();
                var embedding = outcome == ImageOutcome.Unreadable ? [] : new float[512];
                for (int j = 0; j < embedding.Length; j++)
                {
                    embedding[j] = reader.ReadSingle();
                }

                cache._entries[key] = new ImageEmbedding(outcome, embedding);
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
        _dirty = true;
    }

    public void Save()
    {
        if (!_dirty)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var temp = _path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            writer.Write("FIEC0001");
            writer.Write(_entries.Count);
            foreach (var (key, value) in _entries)
            {
                writer.Write(key);
                writer.Write((byte)value.Outcome);
                foreach (var x in value.Embedding512)
                {
                    writer.Write(x);
                }
            }
        }

        File.Move(temp, _path, overwrite: true);
    }
}
