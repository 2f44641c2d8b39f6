using FaceIndex.Core;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The embedding model (fr_feature.onnx, rewritten to a dynamic batch): aligned 112×112 RGB planes →
/// 512-D, L2-normalised. Faces from all callers are batched by an <see cref="InferenceQueue"/>.
/// Flip averaging is the caller's: it embeds the mirrored tensor as one more face and combines the
/// two with <see cref="CombineFlip"/>.
/// </summary>
internal sealed class FaceEmbedder : IAsyncDisposable
{
    /// <summary>Length of the model's output.</summary>
    public const int Dimensions = 512;

    private readonly OrtWorkerPool _pool;
    private readonly InferenceQueue _queue;

    public FaceEmbedder(ModelSource model, VisionOptions options, ProviderPlan plan, ILogger logger)
    {
        int maxBatch = options.EffectiveMaxBatch(plan.Provider);
        _pool = new OrtWorkerPool(model, options, plan, options.EffectiveSessions, maxBatch, [1, 3, FaceAligner.Size, FaceAligner.Size], [("output", [1, Dimensions])]);
        _queue = new InferenceQueue(_pool, maxBatch, options.EffectiveMaxWait(_pool.Provider), logger);
    }

    /// <summary>Number of batches embedded in parallel.</summary>
    public int Parallelism => _pool.Count;

    /// <summary>The model's workers (benchmarks time bare inference on them).</summary>
    public OrtWorkerPool Pool => _pool;

    /// <summary>The execution provider the model runs on.</summary>
    public ExecutionProvider Provider => _pool.Provider;

    /// <summary>Why the model fell back to the CPU, or null.</summary>
    public string? FallbackReason => _pool.FallbackReason;

    /// <summary>The dynamic batcher (its counters give the mean batch).</summary>
    public InferenceQueue Queue => _queue;

    /// <summary>Embeds one aligned face (<see cref="FaceAligner.TensorLength"/> floats) into <paramref name="embedding"/> (512, unit norm), batched with concurrent callers.</summary>
    public async Task EmbedAsync(float[] aligned, float[] embedding, CancellationToken ct)
    {
        await _queue.RunAsync(aligned, embedding, ct).ConfigureAwait(false);
        VectorMath.Normalize(embedding.AsSpan(0, Dimensions));
    }

    /// <summary>Embeds one aligned face on the calling thread, bypassing the queue (for stage timings).</summary>
    public void Embed(ReadOnlySpan<float> aligned, Span<float> embedding)
    {
        var worker = _pool.Rent();
        try
        {
            aligned[..FaceAligner.TensorLength].CopyTo(worker.Input);
            worker.Run();
            worker.Outputs[0].AsSpan(0, Dimensions).CopyTo(embedding);
        }
        finally
        {
            _pool.Return(worker);
        }

        VectorMath.Normalize(embedding[..Dimensions]);
    }

    /// <summary>
    /// Flip averaging: the unit embeddings of a face and of its mirror image, summed and re-normalised,
    /// written over <paramref name="plain"/>.
    /// </summary>
    public static void CombineFlip(Span<float> plain, ReadOnlySpan<float> mirrored)
    {
        for (int i = 0; i < plain.Length; i++)
        {
            plain[i] += mirrored[i];
        }

        VectorMath.Normalize(plain);
    }

    /// <summary>Embeds the faces already queued, then releases the sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync().ConfigureAwait(false);
        _pool.Dispose();
    }
}
