using System.Drawing;
using FaceIndex.Core;

namespace FaceIndex.Vision;

/// <summary>One face found in an image, with its 128-byte code.</summary>
/// <param name="Box">Bounding box in pixels of the oriented image.</param>
/// <param name="Score">Detector score (face probability) in (0, 1).</param>
/// <param name="Landmarks">The 5 alignment points: left eye, right eye (as seen in the image), nose tip, left and right mouth corners.</param>
/// <param name="Vector">The stored code: 512-D embedding → projection → unit 128-D → int8.</param>
public sealed record DetectedFace(FaceBox Box, float Score, IReadOnlyList<PointF> Landmarks, FaceVector Vector)
{
    /// <summary>The model's L2-normalised 512-D embedding (for evaluation and re-projection).</summary>
    public required float[] Embedding512 { get; init; }

    /// <summary>The projected, re-normalised 128-D float embedding that <see cref="Vector"/> quantizes.</summary>
    public required float[] Embedding128 { get; init; }

    /// <summary>
    /// The aligned face the model embedded, as a 112×112 JPEG, when <see cref="VisionOptions.ThumbnailQuality"/>
    /// is set; otherwise null. Personal data: a picture of the person's face.
    /// </summary>
    public byte[]? Thumbnail { get; init; }
}

/// <summary>Which face <see cref="FacePipeline.AnalyzeOneAsync"/> returns.</summary>
public enum FaceSelection
{
    /// <summary>The largest face; other faces are ignored.</summary>
    Largest,

    /// <summary>The only face; several faces are refused with MultipleFaces.</summary>
    ExactlyOne,
}
