using System.Buffers.Binary;
using FaceIndex.Core;

namespace FaceIndex.Vision;

/// <summary>
/// The fixed linear map from the model's unit 512-D embedding to the unit 128-D vector that is
/// quantized: y = normalise(W · (x − μ)). Fitted by PCA on face embeddings (FaceIndex.Evaluation's PcaFitter).
/// </summary>
/// <remarks>
/// Artifact format (little-endian): magic "FIPROJ01" (8 bytes); int32 input dimensions n; int32 output
/// dimensions m; int32 flags (0); int32 number of fitting samples; float32 μ[n]; float32 W[m × n]
/// row-major (row i = i-th principal axis); float32 variance[m] (eigenvalue of each axis).
/// </remarks>
public sealed class Projection
{
    private const int HeaderSize = 24;
    private static ReadOnlySpan<byte> Magic => "FIPROJ01"u8;

    public Projection(int inputDimensions, int outputDimensions, float[] mean, float[] matrix, float[] variance, int samples)
    {
        InputDimensions = inputDimensions;
        OutputDimensions = outputDimensions;
        Mean = mean;
        Matrix = matrix;
        Variance = variance;
        Samples = samples;
    }

    public int InputDimensions { get; }

    public int OutputDimensions { get; }

    /// <summary>μ, subtracted before projecting.</summary>
    public float[] Mean { get; }

    /// <summary>W, <see cref="OutputDimensions"/> rows of <see cref="InputDimensions"/>.</summary>
    public float[] Matrix { get; }

    /// <summary>Variance of the fitting data along each axis.</summary>
    public float[] Variance { get; }

    /// <summary>Number of embeddings the projection was fitted on.</summary>
    public int Samples { get; }

    /// <summary>Projects a unit embedding and re-normalises the result.</summary>
    public void Apply(ReadOnlySpan<float> embedding, Span<float> destination)
    {
        Span<float> centred = stackalloc float[InputDimensions];
        for (int i = 0; i < centred.Length; i++)
        {
            centred[i] = embedding[i] - Mean[i];
        }

        var matrix = Matrix.AsSpan();
        for (int row = 0; row < OutputDimensions; row++)
        {
            destination[row] = VectorMath.Dot(matrix.Slice(row * InputDimensions, InputDimensions), centred);
        }

        VectorMath.Normalize(destination[..OutputDimensions]);
    }

    /// <summary>Serialises the artifact.</summary>
    public byte[] ToBytes()
    {
        int n = InputDimensions, m = OutputDimensions;
        var bytes = new byte[HeaderSize + (4 * (n + (m * n) + m))];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), n);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), m);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), Samples);
        int offset = HeaderSize;
        foreach (var array in new[] { Mean, Matrix, Variance })
        {
            foreach (var value in array)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset), value);
                offset += 4;
            }
        }

        return bytes;
    }

    /// <summary>Parses an artifact written by <see cref="ToBytes"/>.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: the bytes are not a projection artifact.</exception>
    public static Projection Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize || !bytes[..8].SequenceEqual(Magic))
        {
            throw Corrupt("it does not start with the FIPROJ01 header");
        }

        int n = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        int m = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        int samples = BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]);
        if (n is < 1 or > 4096 || m is < 1 or > 4096 || m > n || bytes.Length != HeaderSize + (4 * (n + (m * n) + m)))
        {
            throw Corrupt($"its header ({n} → {m}) does not match its length {bytes.Length}");
        }

        int offset = HeaderSize;
        var mean = ReadFloats(bytes, ref offset, n);
        var matrix = ReadFloats(bytes, ref offset, m * n);
        var variance = ReadFloats(bytes, ref offset, m);
        return new Projection(n, m, mean, matrix, variance, samples);
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> bytes, ref int offset, int count) =>
        Internal.ArtifactFloats.Read(bytes, ref offset, count) ?? throw Corrupt("it holds a non-finite value");

    private static FaceIndexException Corrupt(string why) =>
        new(FaceIndexError.ModelMissing, $"The projection artifact is corrupt: {why}. Restore model-bundle/ from git.");
}
