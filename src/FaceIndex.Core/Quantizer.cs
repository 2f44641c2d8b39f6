namespace FaceIndex.Core;

/// <summary>
/// Turns a float embedding of 128 components into a <see cref="FaceVector"/> and back:
/// L2-normalise, then <c>clamp(round_half_away_from_zero(x × 127), −127, 127)</c>.
/// </summary>
/// <remarks>
/// Invariants (property-tested): every component lies in [−127, 127]; for a unit input the
/// dequantized value is within 0.5 / 127 of the input in every component; the code of a
/// unit vector has a norm within a few percent of 127.
/// </remarks>
public static class Quantizer
{
    /// <summary>Largest absolute value of a component.</summary>
    public const int MaxMagnitude = 127;

    /// <summary>Normalises a copy of <paramref name="embedding"/> and quantizes it.</summary>
    /// <exception cref="ArgumentException">Not 128 components, or a component is not finite, or the vector is zero.</exception>
    public static FaceVector Quantize(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != FaceVector.Dimensions)
        {
            ThrowHelper.ThrowWrongVectorLength(embedding.Length);
        }

        Span<float> unit = stackalloc float[FaceVector.Dimensions];
        embedding.CopyTo(unit);
        foreach (var x in unit)
        {
            if (!float.IsFinite(x))
            {
                throw new ArgumentException("The embedding holds a NaN or infinite component.", nameof(embedding));
            }
        }

        if (VectorMath.Normalize(unit) == 0)
        {
            throw new ArgumentException("The embedding is all zeros: it has no direction to quantize.", nameof(embedding));
        }

        return QuantizeUnit(unit);
    }

    /// <summary>Quantizes a vector that is already unit-norm (no check).</summary>
    public static FaceVector QuantizeUnit(ReadOnlySpan<float> unit)
    {
        var code = default(FaceVector);
        var dst = code.Components;
        for (int i = 0; i < FaceVector.Dimensions; i++)
        {
            dst[i] = QuantizeComponent(unit[i]);
        }

        return code;
    }

    /// <summary>One component: round half away from zero of x × 127, clamped to ±127.</summary>
    public static sbyte QuantizeComponent(float x)
    {
        double q = Math.Round((double)x * FaceVector.Scale, MidpointRounding.AwayFromZero);
        return (sbyte)Math.Clamp(q, -MaxMagnitude, MaxMagnitude);
    }

    /// <summary>The float components the code stands for (x ≈ q / 127); not re-normalised.</summary>
    public static void Dequantize(in FaceVector code, Span<float> destination)
    {
        if (destination.Length != FaceVector.Dimensions)
        {
            ThrowHelper.ThrowWrongVectorLength(destination.Length);
        }

        var src = code.AsSpan();
        for (int i = 0; i < FaceVector.Dimensions; i++)
        {
            destination[i] = src[i] / FaceVector.Scale;
        }
    }

    /// <summary>True when every component lies in [−127, 127] (a code from another encoder may hold −128).</summary>
    public static bool IsValid(ReadOnlySpan<sbyte> components)
    {
        foreach (var c in components)
        {
            if (c == sbyte.MinValue)
            {
                return false;
            }
        }

        return true;
    }
}
