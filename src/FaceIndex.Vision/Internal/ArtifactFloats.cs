using System.Buffers.Binary;

namespace FaceIndex.Vision.Internal;

/// <summary>Reads the little-endian float32 arrays of the bundle's fitted artifacts (projection, code maps).</summary>
internal static class ArtifactFloats
{
    /// <summary>Reads <paramref name="count"/> floats at <paramref name="offset"/> (advanced past them); null when one is not finite.</summary>
    public static float[]? Read(ReadOnlySpan<byte> bytes, ref int offset, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++, offset += 4)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[offset..]);
            if (!float.IsFinite(values[i]))
            {
                return null;
            }
        }

        return values;
    }
}
