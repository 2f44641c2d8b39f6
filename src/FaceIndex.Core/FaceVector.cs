using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FaceIndex.Core;

/// <summary>
/// The 128-byte face code that the store keeps and the index searches: 128 signed 8-bit
/// components of an L2-normalised 128-D embedding, each component quantized as
/// <c>round(x × <see cref="Scale"/>)</c> (see <see cref="Quantizer"/>).
/// </summary>
/// <remarks>
/// A value type over an inline 128-byte buffer: copying one copies the bytes, and an array of
/// them is one contiguous block. Similarity between two codes is their int8 dot product
/// (<see cref="VectorMath.Dot(ReadOnlySpan{sbyte}, ReadOnlySpan{sbyte})"/>), converted to
/// cosine and squared L2 by <see cref="Similarity"/>.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = Dimensions)]
public struct FaceVector : IEquatable<FaceVector>
{
    /// <summary>Number of components, and number of bytes: 128.</summary>
    public const int Dimensions = 128;

    /// <summary>Fixed quantization scale: a unit-norm component x is stored as round(x × 127).</summary>
    public const float Scale = 127f;

    private Buffer _data;

    /// <summary>Creates a code from exactly 128 signed components.</summary>
    /// <exception cref="ArgumentException">The span is not 128 long.</exception>
    public FaceVector(ReadOnlySpan<sbyte> components)
    {
        if (components.Length != Dimensions)
        {
            ThrowHelper.ThrowWrongVectorLength(components.Length);
        }

        components.CopyTo(_data);
    }

    /// <summary>Reinterprets 128 raw bytes (two's complement) as a code.</summary>
    /// <exception cref="ArgumentException">The span is not 128 long.</exception>
    public static FaceVector FromBytes(ReadOnlySpan<byte> bytes) => new(MemoryMarshal.Cast<byte, sbyte>(bytes));

    /// <summary>The 128 components.</summary>
    [UnscopedRef]
    public Span<sbyte> Components => _data;

    /// <summary>The 128 components, read-only.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<sbyte> AsSpan() => _data;

    /// <summary>The 128 components as raw bytes (two's complement), for storage and the wire.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> AsBytes() => MemoryMarshal.Cast<sbyte, byte>((ReadOnlySpan<sbyte>)_data);

    /// <summary>A new array holding the 128 raw bytes.</summary>
    public readonly byte[] ToArray() => AsBytes().ToArray();

    /// <summary>Base64 of the raw bytes: the text form used by the CLI.</summary>
    public readonly string ToBase64() => Convert.ToBase64String(AsBytes());

    /// <summary>Parses the text form written by <see cref="ToBase64"/>.</summary>
    /// <exception cref="FormatException">Not base64, or not 128 bytes.</exception>
    public static FaceVector FromBase64(string text)
    {
        var bytes = Convert.FromBase64String(text);
        if (bytes.Length != Dimensions)
        {
            throw new FormatException($"A face vector is {Dimensions} bytes; the text holds {bytes.Length}.");
        }

        return FromBytes(bytes);
    }

    /// <summary>Dot product with another code (int32 accumulate).</summary>
    public readonly int Dot(in FaceVector other) => VectorMath.Dot(AsSpan(), other.AsSpan());

    /// <inheritdoc />
    public readonly bool Equals(FaceVector other) => AsSpan().SequenceEqual(other.AsSpan());

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is FaceVector other && Equals(other);

    /// <inheritdoc />
    public override readonly int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(AsBytes());
        return hash.ToHashCode();
    }

    /// <summary>Component-wise equality.</summary>
    public static bool operator ==(FaceVector left, FaceVector right) => left.Equals(right);

    /// <summary>Component-wise inequality.</summary>
    public static bool operator !=(FaceVector left, FaceVector right) => !left.Equals(right);

    [InlineArray(Dimensions)]
    private struct Buffer
    {
        private sbyte _element0;
    }
}
