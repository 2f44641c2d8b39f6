using SkiaSharp;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Turns an aligned face tensor (the 112×112 planar RGB input of the embedder, normalised as
/// (v − 127) / 128) back into pixels and encodes them as a JPEG: the face exactly as the model saw it.
/// </summary>
internal static class ThumbnailEncoder
{
    /// <summary>Encodes the aligned face as a 112×112 JPEG of the given quality (1–100).</summary>
    public static byte[] Encode(ReadOnlySpan<float> planes, int quality)
    {
        const int Size = FaceAligner.Size;
        const int Plane = Size * Size;
        var info = new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        var rgba = bitmap.GetPixelSpan();
        for (int i = 0; i < Plane; i++)
        {
            rgba[(4 * i) + 0] = ToByte(planes[i]);
            rgba[(4 * i) + 1] = ToByte(planes[Plane + i]);
            rgba[(4 * i) + 2] = ToByte(planes[(2 * Plane) + i]);
            rgba[(4 * i) + 3] = 255;
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static byte ToByte(float normalised) => (byte)Math.Clamp((int)MathF.Round((normalised * 128f) + 127f), 0, 255);
}
