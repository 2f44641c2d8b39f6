using FaceIndex.Core;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The dlib ResNet converted to ONNX (models/dlib128.onnx, see <see cref="Conversion.DlibResNetConverter"/>):
/// a 150×150 chip (<see cref="DlibChip"/>) → 128-D, L2-normalised. The converted model has a dynamic
/// batch; on the CPU one face per run over a pool of workers is as fast and needs no batch assembly.
/// </summary>
internal sealed class DlibEmbedder : IDisposable
{
    /// <summary>Length of the model's output.</summary>
    public const int Dimensions = 128;

    private readonly OrtWorkerPool _pool;

    public DlibEmbedder(ModelSource model, VisionOptions options, ProviderPlan plan)
    {
        _pool = new OrtWorkerPool(model, options, plan, options.SessionsFor(plan.Provider), 1, [1, 3, DlibChip.Size, DlibChip.Size], [(Conversion.DlibResNetConverter.OutputName, [1, Dimensions])]);
    }

    /// <summary>The execution provider the model runs on.</summary>
    public ExecutionProvider Provider => _pool.Provider;

    /// <summary>Number of faces embedded in parallel.</summary>
    public int Parallelism => _pool.Count;

    /// <summary>Embeds one chip (<see cref="DlibChip.TensorLength"/> floats) into <paramref name="embedding"/> (128, unit norm).</summary>
    public void Embed(ReadOnlySpan<float> chip, Span<float> embedding)
    {
        var worker = _pool.Rent();
        try
        {
            chip[..DlibChip.TensorLength].CopyTo(worker.Input);
            worker.Run();
            worker.Outputs[0].AsSpan(0, Dimensions).CopyTo(embedding);
        }
        finally
        {
            _pool.Return(worker);
        }

        VectorMath.Normalize(embedding[..Dimensions]);
    }

    public void Dispose() => _pool.Dispose();
}
