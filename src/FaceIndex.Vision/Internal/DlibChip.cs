using System.Drawing;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// The dlib ResNet's input: a 150×150 "face chip" framed as dlib frames its chips (the face at the scale
/// of a dlib chip with padding 0.25), made by the same 5-point least-squares similarity as
/// <see cref="FaceAligner"/> onto reference points of its own, then RGB planes (v − mean RGB) / 255,
/// the normalisation face-api.js applies (mean RGB 122.782, 117.001, 104.298).
/// </summary>
/// <remarks>
/// The reference points are the ArcFace 112×112 template scaled by 1.4412 and moved by (−6.2, −29.0),
/// then zoomed about the chip's centre by <see cref="DefaultZoom"/>. The model collapses on other
/// framings: the ArcFace crop merely resized to 150 scores about 80 % on celeba-dev.
/// </remarks>
internal static class DlibChip
{
    /// <summary>Side of the chip.</summary>
    public const int Size = 150;

    /// <summary>Floats in one chip tensor (3 × 150 × 150).</summary>
    public const int TensorLength = 3 * Size * Size;

    /// <summary>
    /// Zoom about the chip's centre applied to the dlib framing: of 1.00, 1.05 and 1.10, the best AUC on
    /// celeba-dev (README, "Models").
    /// </summary>
    public const float DefaultZoom = 1.05f;

    private const float TemplateScale = 1.4412f;
    private const float OffsetX = -6.2f;
    private const float OffsetY = -29.0f;

    private static readonly float[] s_mean = [122.782f, 117.001f, 104.298f];

    /// <summary>The 5 reference points in the 150×150 chip at the given zoom.</summary>
    public static PointF[] ReferencePoints(float zoom)
    {
        var points = new PointF[FaceAligner.Reference.Length];
        const float Centre = Size / 2f;
        for (int i = 0; i < points.Length; i++)
        {
            float x = (FaceAligner.Reference[i].X * TemplateScale) + OffsetX;
            float y = (FaceAligner.Reference[i].Y * TemplateScale) + OffsetY;
            points[i] = new PointF(Centre + ((x - Centre) * zoom), Centre + ((y - Centre) * zoom));
        }

        return points;
    }

    private static readonly PointF[] s_reference = ReferencePoints(DefaultZoom);

    /// <summary>
    /// Warps the face with the given 5 points (full-size pixels) into <paramref name="planes"/> (length
    /// <see cref="TensorLength"/>), sampling the image at its decoded scale.
    /// </summary>
    public static void Align(RgbImage image, ReadOnlySpan<PointF> points, Span<float> planes) => Align(image, points, s_reference, planes);

    /// <summary>As <see cref="Align(RgbImage, ReadOnlySpan{PointF}, Span{float})"/> onto given reference points (for measuring framings).</summary>
    public static void Align(RgbImage image, ReadOnlySpan<PointF> points, ReadOnlySpan<PointF> reference, Span<float> planes) =>
        FaceAligner.Warp(image, points, reference, Size, s_mean, 255f, planes);
}
