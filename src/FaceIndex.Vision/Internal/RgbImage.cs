using System.Buffers;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// A decoded image as interleaved 8-bit RGB rows, oriented as displayed. The pixel buffer is
/// rented from the shared array pool and returned on dispose.
/// </summary>
internal sealed class RgbImage : IDisposable
{
    private byte[]? _pixels;

    public RgbImage(int width, int height)
    {
        Width = width;
        Height = height;
        _pixels = ArrayPool<byte>.Shared.Rent(width * height * 3);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Row-major RGB bytes, <c>3 × Width</c> per row.</summary>
    public Span<byte> Pixels => _pixels.AsSpan(0, Width * Height * 3);

    /// <summary>Bilinear sample of one channel at (x, y) in pixel-index coordinates; 0 outside the image.</summary>
    public float Sample(float x, float y, int channel)
    {
        int x0 = (int)MathF.Floor(x), y0 = (int)MathF.Floor(y);
        float fx = x - x0, fy = y - y0;
        var p = Pixels;
        float v00 = At(p, x0, y0, channel), v10 = At(p, x0 + 1, y0, channel);
        float v01 = At(p, x0, y0 + 1, channel), v11 = At(p, x0 + 1, y0 + 1, channel);
        float top = v00 + ((v10 - v00) * fx);
        float bottom = v01 + ((v11 - v01) * fx);
        return top + ((bottom - top) * fy);
    }

    public void Dispose()
    {
        if (_pixels is { } pixels)
        {
            _pixels = null;
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    private float At(Span<byte> p, int x, int y, int channel) =>
        (uint)x < (uint)Width && (uint)y < (uint)Height ? p[(((y * Width) + x) * 3) + channel] : 0f;
}
