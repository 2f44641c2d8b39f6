namespace FaceIndex.Core;

/// <summary>
/// The one place that converts between the index's raw score (the int8 dot product of two
/// <see cref="FaceVector"/>s) and the figures clients see: cosine similarity and squared L2
/// distance between the unit vectors the codes stand for.
/// </summary>
/// <remarks>
/// A code is <c>round(x × 127)</c> of a unit vector x, so dot / 127² ≈ cos(x, y), and for unit
/// vectors ‖x − y‖² = 2 − 2·cos. Distances lie in [0, 4]; 0 is identical, 2 is orthogonal.
/// Thresholds (verification, open-set search, clustering) are expressed as squared L2 distances.
/// The index ranks by the raw dot product (every code's norm is 127 within about 1 %); the distance a
/// client sees is <see cref="Distance"/>, which divides by the two codes' own norms, so that a code is at
/// distance 0 from itself (with dot / 127² alone, an image searched against its own enrolled face came
/// back at up to ±0.025, which looked like two different codes).
/// </remarks>
public static class Similarity
{
    private const float ScaleSquared = FaceVector.Scale * FaceVector.Scale;

    /// <summary>Cosine similarity from a raw int8 dot product.</summary>
    public static float CosineFromDot(int dot) => dot / ScaleSquared;

    /// <summary>Squared L2 distance (between unit vectors) from a raw int8 dot product.</summary>
    public static float DistanceFromDot(int dot) => DistanceFromCosine(CosineFromDot(dot));

    /// <summary>Squared L2 distance between unit vectors with the given cosine.</summary>
    public static float DistanceFromCosine(float cosine) => 2f - (2f * cosine);

    /// <summary>Cosine of unit vectors at the given squared L2 distance.</summary>
    public static float CosineFromDistance(float distance) => 1f - (distance / 2f);

    /// <summary>
    /// The smallest raw dot product whose distance is at most <paramref name="distance"/>:
    /// lets hot loops compare integers instead of converting every score.
    /// </summary>
    public static int MinDotForDistance(float distance) =>
        (int)MathF.Ceiling(CosineFromDistance(distance) * ScaleSquared - 1e-3f);

    /// <summary>Squared L2 distance between the unit vectors that two codes stand for: 2 − 2·dot / (‖a‖·‖b‖), clamped to [0, 4]; 0 for equal codes.</summary>
    public static float Distance(in FaceVector a, in FaceVector b)
    {
        int dot = a.Dot(b);
        long norms = (long)a.Dot(a) * b.Dot(b);
        if (norms == 0)
        {
            return DistanceFromDot(dot);
        }

        var cosine = (float)(dot / Math.Sqrt(norms));
        return Math.Clamp(DistanceFromCosine(cosine), 0f, 4f);
    }
}
