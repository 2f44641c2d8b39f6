namespace FaceIndex.Vision.Internal;

/// <summary>
/// Sharpness of an aligned face: the variance of the 4-neighbour Laplacian of its luma (BT.601, 0–255)
/// over the centre of the 112×112 crop (rows and columns 16–95: eyes, nose and mouth, not the
/// background or the black fill beyond an image edge). A face enlarged from few pixels, out of focus or moving gives
/// a low value; fine detail (eyelashes, skin texture, hair) a high one.
/// </summary>
internal static class Sharpness
{
    /// <summary>Variance of the Laplacian of an aligned face tensor (RGB planes, (v − 127) / 128).</summary>
    public static float LaplacianVariance(ReadOnlySpan<float> planes)
    {
        const int S = FaceAligner.Size, Plane = S * S, Margin = 16;
        Span<float> luma = new float[Plane];
        for (int i = 0; i < Plane; i++)
        {
            float r = (planes[i] * 128f) + 127f, g = (planes[Plane + i] * 128f) + 127f, b = (planes[(2 * Plane) + i] * 128f) + 127f;
            luma[i] = (0.299f * r) + (0.587f * g) + (0.114f * b);
        }

        double sum = 0, sumSquares = 0;
        int n = 0;
        for (int y = Margin; y < S - Margin; y++)
        {
            for (int x = Margin; x < S - Margin; x++)
            {
                int i = (y * S) + x;
                double lap = luma[i - 1] + luma[i + 1] + luma[i - S] + luma[i + S] - (4 * luma[i]);
                sum += lap;
                sumSquares += lap * lap;
                n++;
            }
        }

        double mean = sum / n;
        return (float)((sumSquares / n) - (mean * mean));
    }
}
