namespace FaceIndex.Vision;

/// <summary>
/// The ramps that map each quality measurement to a component score in [0, 1]: 0 at or beyond the poor
/// value, 1 at or beyond the good value, linear between; the inverse functions give the value a minimum
/// quality requires. Chosen by measurement (README, "Face quality"): on celeba-dev's same-person pairs the
/// false-reject rate at the verification threshold triples for pairs with an image of sharpness under ~160
/// and doubles for |yaw| 30–50° or |pitch| 30–35°; faces of under ~40 px, and blurred faces, embed near
/// one another whoever they show (strangers' blurred deepface photos lie 0.5–0.9 apart, under any match
/// threshold), which is what makes a poor enrolled face a hub.
/// </summary>
public static class QualityRamps
{
    /// <summary>Face size (shorter box side, px) scoring 0.</summary>
    public const float SizePoor = 24f;

    /// <summary>Face size (px) scoring 1.</summary>
    public const float SizeGood = 80f;

    /// <summary>|Yaw| (degrees) scoring 0.</summary>
    public const float YawPoor = 75f;

    /// <summary>|Yaw| (degrees) scoring 1.</summary>
    public const float YawGood = 25f;

    /// <summary>|Pitch| (degrees) scoring 0.</summary>
    public const float PitchPoor = 45f;

    /// <summary>|Pitch| (degrees) scoring 1.</summary>
    public const float PitchGood = 20f;

    /// <summary>Laplacian variance scoring 0.</summary>
    public const float SharpnessPoor = 30f;

    /// <summary>Laplacian variance scoring 1.</summary>
    public const float SharpnessGood = 250f;

    /// <summary>Detector score scoring 0.</summary>
    public const float DetectionPoor = 0.6f;

    /// <summary>Detector score scoring 1.</summary>
    public const float DetectionGood = 0.95f;

    /// <summary>Component score of a face size.</summary>
    public static float Size(float pixels) => Ramp(pixels, SizePoor, SizeGood);

    /// <summary>Component score of a head pose: the worse of |yaw| and |pitch|.</summary>
    public static float Pose(HeadPose pose) =>
        Math.Min(Ramp(Math.Abs(pose.Yaw), YawPoor, YawGood), Ramp(Math.Abs(pose.Pitch), PitchPoor, PitchGood));

    /// <summary>Component score of a sharpness.</summary>
    public static float Sharpness(float laplacianVariance) => Ramp(laplacianVariance, SharpnessPoor, SharpnessGood);

    /// <summary>Component score of a detector score.</summary>
    public static float Detection(float score) => Ramp(score, DetectionPoor, DetectionGood);

    /// <summary>The smallest face size that reaches <paramref name="minimum"/>.</summary>
    public static float SizeFor(float minimum) => Inverse(minimum, SizePoor, SizeGood);

    /// <summary>The largest |yaw| that reaches <paramref name="minimum"/>.</summary>
    public static float YawFor(float minimum) => Inverse(minimum, YawPoor, YawGood);

    /// <summary>The largest |pitch| that reaches <paramref name="minimum"/>.</summary>
    public static float PitchFor(float minimum) => Inverse(minimum, PitchPoor, PitchGood);

    /// <summary>The smallest sharpness that reaches <paramref name="minimum"/>.</summary>
    public static float SharpnessFor(float minimum) => Inverse(minimum, SharpnessPoor, SharpnessGood);

    /// <summary>The smallest detector score that reaches <paramref name="minimum"/>.</summary>
    public static float DetectionFor(float minimum) => Inverse(minimum, DetectionPoor, DetectionGood);

    private static float Ramp(float value, float poor, float good) => Math.Clamp((value - poor) / (good - poor), 0f, 1f);

    private static float Inverse(float score, float poor, float good) => poor + (Math.Clamp(score, 0f, 1f) * (good - poor));
}
