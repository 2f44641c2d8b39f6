namespace FaceIndex.Core;

/// <summary>
/// Z-normalised score fusion of two models' codes of the same faces: each model's cosine is
/// standardised by the mean and standard deviation of its different-person (impostor) cosines,
/// the two z-scores are averaged with weights (1 − <see cref="SecondaryWeight"/>, <see cref="SecondaryWeight"/>),
/// and the result is mapped back onto the primary model's cosine scale, so that a fused score is a
/// squared L2 distance in the primary model's units and thresholds read as usual.
/// </summary>
/// <param name="PrimaryMean">Mean impostor cosine of the primary (searched) code.</param>
/// <param name="PrimaryStd">Standard deviation of the primary code's impostor cosines.</param>
/// <param name="SecondaryMean">Mean impostor cosine of the secondary code.</param>
/// <param name="SecondaryStd">Standard deviation of the secondary code's impostor cosines.</param>
/// <param name="SecondaryWeight">Weight of the secondary model's z-score, in [0, 1].</param>
public readonly record struct ScoreFusion(float PrimaryMean, float PrimaryStd, float SecondaryMean, float SecondaryStd, float SecondaryWeight)
{
    /// <summary>Fused squared L2 distance from the two cosines, clamped to [0, 4].</summary>
    public float DistanceFromCosines(float primaryCosine, float secondaryCosine)
    {
        float z1 = (primaryCosine - PrimaryMean) / PrimaryStd;
        float z2 = (secondaryCosine - SecondaryMean) / SecondaryStd;
        float z = ((1f - SecondaryWeight) * z1) + (SecondaryWeight * z2);
        return Math.Clamp(Similarity.DistanceFromCosine(PrimaryMean + (PrimaryStd * z)), 0f, 4f);
    }

    /// <summary>Fused squared L2 distance between two faces, each given by its primary and secondary codes.</summary>
    public float Distance(in FaceVector primaryA, in FaceVector secondaryA, in FaceVector primaryB, in FaceVector secondaryB) =>
        DistanceFromCosines(Similarity.CosineFromDot(primaryA.Dot(primaryB)), Similarity.CosineFromDot(secondaryA.Dot(secondaryB)));

    /// <summary>True when the parameters can be used (positive deviations, a weight in [0, 1], finite means).</summary>
    public bool IsValid =>
        float.IsFinite(PrimaryMean) && float.IsFinite(SecondaryMean) && PrimaryStd > 0 && SecondaryStd > 0 &&
        float.IsFinite(PrimaryStd) && float.IsFinite(SecondaryStd) && SecondaryWeight is >= 0f and <= 1f;
}
