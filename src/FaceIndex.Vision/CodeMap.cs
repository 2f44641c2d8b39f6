using System.Buffers.Binary;
using FaceIndex.Core;

namespace FaceIndex.Vision;

/// <summary>
/// A linear map from one embedder's 128-D code space into another's (FaceNet's "harmonic embeddings"):
/// y = normalise(W · x + b), where x is a stored int8 code read back as floats (q / 127) and y is
/// quantized as the target embedder's codes are. Fitted by ridge least squares on faces embedded by
/// both models (FaceIndex.Evaluation's CodeMapFitter); it lets a collection enrolled with one model be
/// searched with another without re-enrolment from images.
/// </summary>
/// <remarks>
/// Artifact format (little-endian): magic "FICMAP01" (8 bytes); int32 dimensions n (128); int32
/// number of fitting samples; int32 length of the source embedder's name, its UTF-8 bytes; the same for
/// the target's; float32 W[n × n] row-major (row i gives output component i); float32 b[n].
/// </remarks>
public sealed class CodeMap
{
    private static ReadOnlySpan<byte> Magic => "FICMAP01"u8;

    private const int Dimensions = FaceVector.Dimensions;

    /// <param name="from">The source embedder.</param>
    /// <param name="to">The target embedder.</param>
    /// <param name="matrix">W, 128 rows of 128.</param>
    /// <param name="bias">b, 128 values.</param>
    /// <param name="samples">Number of faces it was fitted on.</param>
    public CodeMap(EmbedderKind from, EmbedderKind to, float[] matrix, float[] bias, int samples)
    {
        if (matrix.Length != Dimensions * Dimensions || bias.Length != Dimensions)
        {
            throw new ArgumentException($"A code map is {Dimensions} × {Dimensions} plus {Dimensions}; got {matrix.Length} and {bias.Length} values.");
        }

        From = from;
        To = to;
        Matrix = matrix;
        Bias = bias;
        Samples = samples;
    }

    public EmbedderKind From { get; }

    public EmbedderKind To { get; }

    /// <summary>W, row-major.</summary>
    public float[] Matrix { get; }

    /// <summary>b.</summary>
    public float[] Bias { get; }

    /// <summary>Number of faces the map was fitted on.</summary>
    public int Samples { get; }

    /// <summary>Maps a unit vector of the source space to a unit vector of the target space.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination)
    {
        var matrix = Matrix.AsSpan();
        for (int row = 0; row < Dimensions; row++)
        {
            destination[row] = VectorMath.Dot(matrix.Slice(row * Dimensions, Dimensions), source[..Dimensions]) + Bias[row];
        }

        if (VectorMath.Normalize(destination[..Dimensions]) == 0)
        {
            // Not reachable by a fitted map on a unit input; a zero output has no direction to keep.
            destination[0] = 1;
        }
    }

    /// <summary>Maps a stored code of the source embedder to a code of the target embedder.</summary>
    public FaceVector Apply(in FaceVector code)
    {
        Span<float> source = stackalloc float[Dimensions];
        Span<float> target = stackalloc float[Dimensions];
        Quantizer.Dequantize(code, source);
        Apply(source, target);
        return Quantizer.QuantizeUnit(target);
    }

    /// <summary>Serialises the artifact.</summary>
    public byte[] ToBytes()
    {
        var from = System.Text.Encoding.UTF8.GetBytes(EmbedderNames.Of(From));
        var to = System.Text.Encoding.UTF8.GetBytes(EmbedderNames.Of(To));
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            // BinaryWriter writes little-endian on every platform.
            writer.Write(Magic);
            writer.Write(Dimensions);
            writer.Write(Samples);
            writer.Write(from.Length);
            writer.Write(from);
            writer.Write(to.Length);
            writer.Write(to);
            foreach (var value in Matrix.Concat(Bias))
            {
                writer.Write(value);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Parses an artifact written by <see cref="ToBytes"/>.</summary>
    /// <exception cref="FaceIndexException">ModelMissing: the bytes are not a code map.</exception>
    public static CodeMap Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16 || !bytes[..8].SequenceEqual(Magic))
        {
            throw Corrupt("it does not start with the FICMAP01 header");
        }

        int offset = 8;
        int n = ReadInt(bytes, ref offset);
        int samples = ReadInt(bytes, ref offset);
        if (n != Dimensions)
        {
            throw Corrupt($"it maps {n} dimensions, not {Dimensions}");
        }

        var from = ReadName(bytes, ref offset);
        var to = ReadName(bytes, ref offset);
        if (bytes.Length - offset != 4 * ((n * n) + n))
        {
            throw Corrupt($"its length {bytes.Length} does not match its header");
        }

        var matrix = ReadFloats(bytes, ref offset, n * n);
        var bias = ReadFloats(bytes, ref offset, n);
        return new CodeMap(from, to, matrix, bias, samples);
    }

    private static int ReadInt(ReadOnlySpan<byte> bytes, ref int offset)
    {
        if (offset + 4 > bytes.Length)
        {
            throw Corrupt("it is cut short");
        }

        int value = BinaryPrimitives.ReadInt32LittleEndian(bytes[offset..]);
        offset += 4;
        return value;
    }

    private static EmbedderKind ReadName(ReadOnlySpan<byte> bytes, ref int offset)
    {
        int length = ReadInt(bytes, ref offset);
        if (length is < 1 or > 64 || offset + length > bytes.Length)
        {
            throw Corrupt("an embedder name is cut short");
        }

        var name = System.Text.Encoding.UTF8.GetString(bytes.Slice(offset, length));
        offset += length;
        return EmbedderNames.TryParse(name, out var kind) ? kind : throw Corrupt($"it names an unknown embedder '{name}'");
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> bytes, ref int offset, int count) =>
        Internal.ArtifactFloats.Read(bytes, ref offset, count) ?? throw Corrupt("it holds a non-finite value");

    private static FaceIndexException Corrupt(string why) =>
        new(FaceIndexError.ModelMissing, $"The code map artifact is invalid: {why}. Restore model-bundle/ from git, or re-fit it with: faceindex models fit-migration.");
}
