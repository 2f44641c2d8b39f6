using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Internal;

/// <summary>A verified model a session loads: a file, or bytes held in memory (a derived model whose folder was read-only).</summary>
/// <param name="Name">The model's file name, for messages and logs.</param>
/// <param name="Path">Where it lies, or null when it is only in memory.</param>
/// <param name="Bytes">Its bytes when already read, else null.</param>
internal sealed record ModelSource(string Name, string? Path, byte[]? Bytes)
{
    /// <summary>Creates an ONNX Runtime session over the model.</summary>
    public InferenceSession Open(SessionOptions options) =>
        Bytes is not null ? new InferenceSession(Bytes, options) : new InferenceSession(Path!, options);
}
