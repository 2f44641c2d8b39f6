using System.Drawing;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Maps a face onto the embedding model's 112×112 frame: the similarity transform (rotation, uniform
/// scale, translation) that best maps the 5 detected points onto the reference points in the
/// least-squares sense (Umeyama's solution, specialised to 2-D), then an inverse warp with bilinear
/// sampling (supersampled when the face is shrunk by more than 1.5×). Output: RGB planes, (v − 127) / 128.
/// </summary>
internal static class FaceAligner
{
    /// <summary>Side of the aligned face.</summary>
    public const int Size = 112;

    /// <summary>Floats in one aligned face tensor (3 × 112 × 112).</summary>
    public const int TensorLength = 3 * Size * Size;

    /// <summary>Reference positions of the 5 points in the 112×112 frame (ArcFace convention).</summary>
    internal static readonly PointF[] Reference =
    [
        new(38.2946f, 51.6963f),
        new(73.5318f, 51.5014f),
        new(56.0252f, 71.7366f),
        new(41.5493f, 92.3655f),
        new(70.7299f, 92.2041f),
    ];

    /// <summary>
    /// Least-squares similarity src → dst: returns (a, b, tx, ty) such that
    /// dst ≈ [a −b; b a]·src + t. With both point sets centred, a = Σ(s·d) / Σ|s|² and
    /// b = Σ(s × d) / Σ|s|², which is Umeyama's rotation × scale for the 2-D case (no reflection).
    /// </summary>
    public static (double A, double B, double Tx, double Ty) EstimateSimilarity(ReadOnlySpan<PointF> src, ReadOnlySpan<PointF> dst)
    {
        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        int n = src.Length;
        for (int i = 0; i < n; i++)
        {
            msx += src[i].X;
            msy += src[i].Y;
            mdx += dst[i].X;
            mdy += dst[i].Y;
        }

        msx /= n;
        msy /= n;
        mdx /= n;
        mdy /= n;

        double dotSum = 0, crossSum = 0, norm = 0;
        for (int i = 0; i < n; i++)
        {
            double sx = src[i].X - msx, sy = src[i].Y - msy;
            double dx = dst[i].X - mdx, dy = dst[i].Y - mdy;
            dotSum += (sx * dx) + (sy * dy);
            crossSum += (sx * dy) - (sy * dx);
            norm += (sx * sx) + (sy * sy);
        }

        if (norm < 1e-12)
        {
            return (1, 0, mdx - msx, mdy - msy);
        }

        double a = dotSum / norm, b = crossSum / norm;
        return (a, b, mdx - ((a * msx) - (b * msy)), mdy - ((b * msx) + (a * msy)));
    }

    /// <summary>
    /// Warps the face with the given 5 points (full-size pixels) into <paramref name="planes"/> (length
    /// <see cref="TensorLength"/>), sampling the image at its decoded scale.
    /// </summary>
    public static void Align(RgbImage image, ReadOnlySpan<PointF> points, Span<float> planes) =>
        Warp(image, points, Reference, Size, [127f, 127f, 127f], 128f, planes);

    /// <summary>
    /// The similarity warp that both embedders' crops use: the transform that best maps the face's points
    /// (full-size pixels) onto <paramref name="reference"/> (Umeyama), inverted and sampled bilinearly at
    /// the image's decoded scale, with up to 4×4 samples per output pixel when the face is shrunk by more
    /// than 1.5×; each channel c is written as (value − <paramref name="mean"/>[c]) / <paramref name="divisor"/>
    /// into three planes of <paramref name="size"/>² (R, G, B).
    /// </summary>
    internal static void Warp(RgbImage image, ReadOnlySpan<PointF> points, ReadOnlySpan<PointF> reference, int size, ReadOnlySpan<float> mean, float divisor, Span<float> planes)
    {
        Span<PointF> decoded = stackalloc PointF[points.Length];
        for (int i = 0; i < points.Length; i++)
        {
            decoded[i] = new PointF(points[i].X * image.Scale, points[i].Y * image.Scale);
        }

        var (a, b, tx, ty) = EstimateSimilarity(decoded, reference);

        // Inverse map: src = M⁻¹ (dst − t), M⁻¹ = [a b; −b a] / (a² + b²).
        double det = (a * a) + (b * b);
        float ia = (float)(a / det), ib = (float)(b / det);
        float scale = (float)Math.Sqrt(det);
        int samples = scale < 1f / 1.5f ? Math.Min(4, (int)MathF.Ceiling(1f / scale)) : 1;
        int plane = size * size;

        float inv = 1f / (samples * samples);
        float itx = (float)tx, ity = (float)ty;
        for (int v = 0; v < size; v++)
        {
            for (int u = 0; u < size; u++)
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

                int i = (v * size) + u;
                planes[i] = ((r * inv) - mean[0]) / divisor;
                planes[plane + i] = ((g * inv) - mean[1]) / divisor;
                planes[(2 * plane) + i] = ((bl * inv) - mean[2]) / divisor;
            }
        }
    }

    /// <summary>Mirrors an aligned face tensor left ↔ right (for flip-averaged embeddings).</summary>
    public static void Mirror(ReadOnlySpan<float> planes, Span<float> mirrored)
    {
        for (int row = 0; row < 3 * Size; row++)
        {
            var src = planes.Slice(row * Size, Size);
            var dst = mirrored.Slice(row * Size, Size);
            for (int u = 0; u < Size; u++)
            {
                dst[u] = src[Size - 1 - u];
            }
        }
    }
}
