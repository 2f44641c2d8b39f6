using System.Globalization;
using System.Text;

namespace FaceIndex.Vision;

/// <summary>What makes a face a poor one to enrol or to search with.</summary>
[Flags]
public enum QualityIssues
{
    /// <summary>No issue.</summary>
    None = 0,

    /// <summary>The face box is small: few pixels to recognise from.</summary>
    TooSmall = 1,

    /// <summary>The head is turned far from frontal (large yaw) or nods far up or down (large pitch).</summary>
    Profile = 2,

    /// <summary>The aligned face has little fine detail: out of focus, moving, or enlarged from a small face.</summary>
    Blurred = 4,

    /// <summary>The detector is unsure it is a face.</summary>
    LowConfidence = 8,
}

/// <summary>
/// How usable a face is for recognition, from four measurements: the detector's score, the face's size
/// (the shorter side of its box, in pixels), its head pose (the model package's fr_pose.onnx) and the
/// sharpness of the aligned face (variance of the Laplacian). Each maps to a component score in [0, 1]
/// by a linear ramp between a poor and a good value (<see cref="QualityRamps"/>, chosen by measurement on
/// celeba-dev, see README); <see cref="Score"/> is the smallest of the four, so a minimum quality q
/// refuses a face when any one component is under q, and <see cref="IssuesUnder"/> says which.
/// </summary>
/// <param name="Score">The quality in [0, 1]: the smallest component score.</param>
/// <param name="DetectionScore">The detector's face probability.</param>
/// <param name="FaceSize">The shorter side of the face box, in pixels of the oriented image.</param>
/// <param name="Pose">Yaw, pitch and roll in degrees.</param>
/// <param name="Sharpness">Variance of the Laplacian of the aligned face's luma (0–255 scale).</param>
public sealed record FaceQuality(float Score, float DetectionScore, float FaceSize, HeadPose Pose, float Sharpness)
{
    /// <summary>The component score of the face size.</summary>
    public float SizeScore => QualityRamps.Size(FaceSize);

    /// <summary>The component score of the head pose (the worse of yaw and pitch).</summary>
    public float PoseScore => QualityRamps.Pose(Pose);

    /// <summary>The component score of the sharpness.</summary>
    public float SharpnessScore => QualityRamps.Sharpness(Sharpness);

    /// <summary>The component score of the detector's confidence.</summary>
    public float DetectionComponent => QualityRamps.Detection(DetectionScore);

    /// <summary>Computes the quality of a face from its four measurements.</summary>
    public static FaceQuality Assess(float detectionScore, float faceSize, HeadPose pose, float sharpness)
    {
        float score = Math.Min(
            Math.Min(QualityRamps.Detection(detectionScore), QualityRamps.Size(faceSize)),
            Math.Min(QualityRamps.Pose(pose), QualityRamps.Sharpness(sharpness)));
        return new FaceQuality(score, detectionScore, faceSize, pose, sharpness);
    }

    /// <summary>The issues whose component score is under <paramref name="minimum"/> (None when the face reaches it).</summary>
    public QualityIssues IssuesUnder(float minimum)
    {
        var issues = QualityIssues.None;
        if (SizeScore < minimum)
        {
            issues |= QualityIssues.TooSmall;
        }

        if (PoseScore < minimum)
        {
            issues |= QualityIssues.Profile;
        }

        if (SharpnessScore < minimum)
        {
            issues |= QualityIssues.Blurred;
        }

        if (DetectionComponent < minimum)
        {
            issues |= QualityIssues.LowConfidence;
        }

        return issues;
    }

    /// <summary>
    /// A sentence for a client that says why the face is under <paramref name="minimum"/>, with the
    /// measured values, e.g. "quality 0.12 is under the minimum 0.40: too small (18 px, want 46 or more); blurred (…)".
    /// </summary>
    public string Explain(float minimum)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(inv, $"quality {Score:F2} is under the minimum {minimum:F2}:");
        var issues = IssuesUnder(minimum);
        string separator = " ";
        if (issues.HasFlag(QualityIssues.TooSmall))
        {
            text.Append(inv, $"{separator}too small ({FaceSize:F0} px on the shorter side of the face box, {QualityRamps.SizeFor(minimum):F0} px or more needed)");
            separator = "; ";
        }

        if (issues.HasFlag(QualityIssues.Profile))
        {
            text.Append(inv, $"{separator}turned away (yaw {Pose.Yaw:F0}°, pitch {Pose.Pitch:F0}°; at most {QualityRamps.YawFor(minimum):F0}° of yaw and {QualityRamps.PitchFor(minimum):F0}° of pitch allowed: a frontal face is needed)");
            separator = "; ";
        }

        if (issues.HasFlag(QualityIssues.Blurred))
        {
            text.Append(inv, $"{separator}blurred (sharpness {Sharpness:F0}, {QualityRamps.SharpnessFor(minimum):F0} or more needed)");
            separator = "; ";
        }

        if (issues.HasFlag(QualityIssues.LowConfidence))
        {
            text.Append(inv, $"{separator}the detector is unsure it is a face (score {DetectionScore:F2}, {QualityRamps.DetectionFor(minimum):F2} or more needed)");
        }

        return text.ToString();
    }
}
