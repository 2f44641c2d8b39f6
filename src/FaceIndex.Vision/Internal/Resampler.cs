namespace FaceIndex.Vision.Internal;

/// <summary>
/// Resizes a rectangle of an <see cref="RgbImage"/> into a small planar float tensor: box-averaging
/// when shrinking (no aliasing on large photos), bilinear when enlarging.
/// </summary>
internal static class Resampler
{
    /// <summary>
    /// Resizes the source rectangle to <paramref name="outW"/>×<paramref name="outH"/> RGB planes
    /// (R plane, then G, then B), each value mapped as (v − 127) / 128.
    /// </summary>
    public static void ResizeToPlanes(RgbImage image, float srcX, float srcY, float srcW, float srcH, int outW, int outH, Span<float> planes)
    {
        int plane = outW * outH;
        Span<float> rgb = stackalloc float[3];
        for (int oy = 0; oy < outH; oy++)
        {
            for (int ox = 0; ox < outW; ox++)
            {
                SampleCell(image, srcX, srcY, srcW / outW, srcH / outH, ox, oy, rgb);
                int i = (oy * outW) + ox;
                planes[i] = (rgb[0] - 127f) / 128f;
                planes[plane + i] = (rgb[1] - 127f) / 128f;
                planes[(2 * plane) + i] = (rgb[2] - 127f) / 128f;
            }
        }
    }

    /// <summary>Resizes the source rectangle to a grayscale plane (BT.601 luma), each value mapped as v / 256.</summary>
    public static void ResizeToGray(RgbImage image, float srcX, float srcY, float srcW, float srcH, int outW, int outH, Span<float> plane)
    {
        Span<float> rgb = stackalloc float[3];
        for (int oy = 0; oy < outH; oy++)
        {
            for (int ox = 0; ox < outW; ox++)
            {
                SampleCell(image, srcX, srcY, srcW / outW, srcH / outH, ox, oy, rgb);
                float luma = (0.299f * rgb[0]) + (0.587f * rgb[1]) + (0.114f * rgb[2]);
                plane[(oy * outW) + ox] = MathF.Round(luma) / 256f;
            }
        }
    }

    /// <summary>The mean colour of output cell (ox, oy): an average over the source pixels it covers, or a bilinear sample.</summary>
    private static void SampleCell(RgbImage image, float srcX, float srcY, float scaleX, float scaleY, int ox, int oy, Span<float> rgb)
    {
        if (scaleX <= 1.5f && scaleY <= 1.5f)
        {
            // Pixel-centre mapping, as OpenCV's INTER_LINEAR.
            float x = srcX + ((ox + 0.5f) * scaleX) - 0.5f;
            float y = srcY + ((oy + 0.5f) * scaleY) - 0.5f;
            x = Math.Clamp(x, 0, image.Width - 1);
            y = Math.Clamp(y, 0, image.Height - 1);
            for (int c = 0; c < 3; c++)
            {
                rgb[c] = image.Sample(x, y, c);
            }

            return;
        }

        int x0 = Math.Clamp((int)(srcX + (ox * scaleX)), 0, image.Width - 1);
        int x1 = Math.Clamp((int)(srcX + ((ox + 1) * scaleX)), x0 + 1, image.Width);
        int y0 = Math.Clamp((int)(srcY + (oy * scaleY)), 0, image.Height - 1);
        int y1 = Math.Clamp((int)(srcY + ((oy + 1) * scaleY)), y0 + 1, image.Height);
        var pixels = image.Pixels;
        int r = 0, g = 0, b = 0;
        for (int y = y0; y < y1; y++)
        {
            var row = pixels.Slice(((y * image.Width) + x0) * 3, (x1 - x0) * 3);
            for (int i = 0; i < row.Length; i += 3)
            {
                r += row[i];
                g += row[i + 1];
                b += row[i + 2];
            }
        }

        float n = (x1 - x0) * (y1 - y0);
        rgb[0] = r / n;
        rgb[1] = g / n;
        rgb[2] = b / n;
    }
}
