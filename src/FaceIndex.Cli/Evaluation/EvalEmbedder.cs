using System.Security.Cryptography;
using System.Text;
using FaceIndex.Core;
using FaceIndex.Vision;

namespace FaceIndex.Cli.Evaluation;

/// <summary>How one evaluation image turned out.</summary>
internal enum ImageOutcome : byte
{
    /// <summary>A face was detected; the chosen one is used.</summary>
    Face,

    /// <summary>No face was detected; the centre crop was used instead.</summary>
    CentreCrop,

    /// <summary>The file could not be read or decoded.</summary>
    Unreadable,
}

/// <summary>The unit 512-D embedding of an image's face, and of its mirror image when asked for (both empty when unreadable).</summary>
internal sealed record ImageEmbedding(ImageOutcome Outcome, float[] Plain, float[]? Mirrored)
{
    /// <summary>The embedding of the chosen representation: plain, or flip-averaged (as the pipeline's FlipAveraging computes it).</summary>
    public float[] Embedding(bool flip)
    {
        if (!flip || Outcome == ImageOutcome.Unreadable)
        {
            return Plain;
        }

        var combined = (float[])Plain.Clone();
        FacePipeline.CombineFlip(combined, Mirrored ?? throw new InvalidOperationException("The mirror embedding was not computed."));
        return combined;
    }
}

/// <summary>
/// Embeds evaluation images (the face nearest the image centre, the centre crop when none is found),
/// with a persistent cache keyed by the pipeline's fingerprint and each file's path, size and
/// modification time, so that a re-run is quick.
/// </summary>
internal sealed class EvalEmbedder
{
    private readonly FacePipeline _pipeline;
    private readonly EmbeddingCache? _cache;
    private readonly bool _mirror;

    /// <param name="pipeline">A pipeline; its FlipAveraging setting is not used (see <paramref name="mirror"/>).</param>
    /// <param name="cacheDirectory">Folder of the cache files, or null for none.</param>
    /// <param name="mirror">Also embed each face's mirror image, so that plain and flip-averaged results come from one run.</param>
    public EvalEmbedder(FacePipeline pipeline, string? cacheDirectory, bool mirror)
    {
        _pipeline = pipeline;
        _mirror = mirror;
        _cache = cacheDirectory is null ? null : EmbeddingCache.Load(Path.Combine(cacheDirectory, CacheFileName(pipeline)));
    }

    /// <summary>Cache entries reused in this run.</summary>
    public int CacheHits => _cache?.Hits ?? 0;

    /// <summary>The cache file, when there is one.</summary>
    public string? CachePath => _cache?.Path;

    public FacePipeline Pipeline => _pipeline;

    public async Task<ImageEmbedding> EmbedAsync(string path, CancellationToken ct)
    {
        var info = new FileInfo(path);
        var key = info.Exists ? $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}" : info.FullName;
        if (_cache is not null && _cache.TryGet(key, out var cached) && (!_mirror || cached.Mirrored is not null || cached.Outcome == ImageOutcome.Unreadable))
        {
            return cached;
        }

        ImageEmbedding result;
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            result = await EmbedBytesAsync(bytes, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FaceIndexException or IOException or UnauthorizedAccessException)
        {
            result = new ImageEmbedding(ImageOutcome.Unreadable, [], null);
        }

        _cache?.Add(key, result);
        return result;
    }

    /// <summary>Writes the cache back to disk.</summary>
    public void SaveCache() => _cache?.Save();

    private async Task<ImageEmbedding> EmbedBytesAsync(byte[] bytes, CancellationToken ct)
    {
        var subject = await _pipeline.EmbedSubjectAsync(bytes, _mirror, ct).ConfigureAwait(false);
        return new ImageEmbedding(subject.UsedCentreCrop ? ImageOutcome.CentreCrop : ImageOutcome.Face, subject.Plain, subject.Mirrored);
    }

    private static string CacheFileName(FacePipeline pipeline)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{pipeline.CacheFingerprint}|{FacePipeline.SubjectRule}")))[..16];
        return $"embeddings-{pipeline.ModelVersion}-{hash}.fiec";
    }
}
