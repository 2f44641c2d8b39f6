using FaceIndex.Core;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The embedding model (fr_feature.onnx): aligned 112×112 RGB planes → 512-D, L2-normalised.
/// The model's batch dimension is fixed at 1, so a batch is spread over a pool of sessions,
/// each with its input and output tensors bound once.
/// </summary>
internal sealed class FaceEmbedder : IDisposable
{
    /// <summary>Length of the model's output.</summary>
    public const int Dimensions = 512;

    private readonly OrtWorkerPool _pool;
    private readonly bool _flip;

    public FaceEmbedder(string modelPath, VisionOptions options)
    {
        _pool = new OrtWorkerPool(modelPath, options, options.EffectiveSessions, [1, 3, FaceAligner.Size, FaceAligner.Size], [("output", [1, Dimensions])]);
        _flip = options.FlipAveraging;
    }

    /// <summary>Number of faces embedded in parallel.</summary>
    public int Parallelism => _pool.Count;

    /// <summary>Embeds one aligned face into <paramref name="embedding"/> (512, unit norm).</summary>
    public void Embed(ReadOnlySpan<float> aligned, Span<float> embedding)
    {
        var worker = _pool.Rent();
        try
        {
            aligned.CopyTo(worker.Input);
            worker.Run();
            var output = worker.Outputs[0].AsSpan(0, Dimensions);
            output.CopyTo(embedding);
            VectorMath.Normalize(embedding);
            if (_flip)
            {
                FaceAligner.Mirror(aligned, worker.Input);
                worker.Run();
                VectorMath.Normalize(output);
                for (int i = 0; i < Dimensions; i++)
                {
                    embedding[i] += output[i];
                }

                VectorMath.Normalize(embedding);
            }
        }
        finally
        {
            _pool.Return(worker);
        }
    }

    /// <summary>Embeds many aligned faces, in parallel over the session pool.</summary>
    public void EmbedBatch(IReadOnlyList<float[]> aligned, IReadOnlyList<float[]> embeddings)
    {
        if (aligned.Count == 1)
        {
            Embed(aligned[0], embeddings[0]);
            return;
        }

        Parallel.For(
            0,
            aligned.Count,
            new ParallelOptions { MaxDegreeOfParallelism = _pool.Count },
            i => Embed(aligned[i], embeddings[i]));
    }

    public void Dispose() => _pool.Dispose();
}
