using FaceIndex.Core;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The embedding model (fr_feature.onnx): aligned 112×112 RGB planes → 512-D, L2-normalised.
/// The model's batch dimension is fixed at 1, so a batch is spread over a pool of sessions,
/// each with its input and output tensors bound once. Flip averaging is the caller's: it embeds
/// the mirrored tensor as one more face and combines the two with <see cref="CombineFlip"/>.
/// </summary>
internal sealed class FaceEmbedder : IDisposable
{
    /// <summary>Length of the model's output.</summary>
    public const int Dimensions = 512;

    private readonly OrtWorkerPool _pool;

    public FaceEmbedder(string modelPath, VisionOptions options)
    {
        _pool = new OrtWorkerPool(modelPath, options, options.EffectiveSessions, [1, 3, FaceAligner.Size, FaceAligner.Size], [("output", [1, Dimensions])]);
    }

    /// <summary>Number of faces embedded in parallel.</summary>
    public int Parallelism => _pool.Count;

    /// <summary>Embeds one aligned face (<see cref="FaceAligner.TensorLength"/> floats) into <paramref name="embedding"/> (512, unit norm).</summary>
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

    /// <summary>Embeds many aligned faces, in parallel over the session pool.</summary>
    public void EmbedBatch(IReadOnlyList<float[]> aligned, IReadOnlyList<float[]> embeddings)
    {
        if (aligned.Count == 1 || _pool.Count == 1)
        {
            for (int i = 0; i < aligned.Count; i++)
            {
                Embed(aligned[i], embeddings[i]);
            }

            return;
        }

        Parallel.For(
            0,
            aligned.Count,
            new ParallelOptions { MaxDegreeOfParallelism = _pool.Count },
            i => Embed(aligned[i], embeddings[i]));
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

    public void Dispose() => _pool.Dispose();
}
