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
    public static void Align(RgbImage image, ReadOnlySpan<PointF> points, ReadOnlySpan<PointF> reference, Span<float> planes)
    {
        Span<PointF> decoded = stackalloc PointF[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            decoded[i] = new PointF(points[i].X * image.Scale, points[i].Y * image.Scale);
        }

        var (a, b, tx, ty) = FaceAligner.EstimateSimilarity(decoded, reference);
        double det = (a * a) + (b * b);
        float ia = (float)(a / det), ib = (float)(b / det);
        float scale = (float)Math.Sqrt(det);
        int samples = scale < 1f / 1.5f ? Math.Min(4, (int)MathF.Ceiling(1f / scale)) : 1;
        const int Plane = Size * Size;
        float inv = 1f / (samples * samples);
        float itx = (float)tx, ity = (float)ty;
        for (int v = 0; v < Size; v++)
        {
            for (int u = 0; u < Size; u++)
            {
                float r = 0, g = 0, bl = 0;
                for (int sv = 0; sv < samples; sv++)
                {
                    float dv = v + (((sv + 0.5f) / samples) - 0.5f) - ity;
                    for (int su = 0; su < samples; su++)
                    {
                        float du = u + (((su + 0.5f) / samples) - 0.5f) - itx;
                        image.SampleRgb((ia * du) + (ib * dv), (-ib * du) + (ia * dv), out float sr, out float sg, out float sb);
                        r += sr;
                        g += sg;
                        bl += sb;
                    }
                }

                int i = (v * Size) + u;
                planes[i] = ((r * inv) - s_mean[0]) / 255f;
                planes[Plane + i] = ((g * inv) - s_mean[1]) / 255f;
                planes[(2 * Plane) + i] = ((bl * inv) - s_mean[2]) / 255f;
            }
        }
    }
}
