using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// A decoded image as interleaved 8-bit RGB rows, oriented as displayed. The pixel buffer is
/// rented from <see cref="ImageBuffers"/> and returned on dispose.
/// </summary>
internal sealed class RgbImage : IDisposable
{
    private byte[]? _pixels;

    /// <param name="width">Width in decoded pixels.</param>
    /// <param name="height">Height in decoded pixels.</param>
    /// <param name="fullWidth">Width of the full-size image (0: the same), when decoded at a reduced scale.</param>
    /// <param name="fullHeight">Height of the full-size image (0: the same).</param>
    public RgbImage(int width, int height, int fullWidth = 0, int fullHeight = 0)
    {
        Width = width;
        Height = height;
        FullWidth = fullWidth > 0 ? fullWidth : width;
        FullHeight = fullHeight > 0 ? fullHeight : height;
        Scale = (float)width / FullWidth;
        _pixels = ImageBuffers.Pool.Rent(width * height * 3);
    }

    /// <summary>Width in decoded pixels.</summary>
    public int Width { get; }

    /// <summary>Height in decoded pixels.</summary>
    public int Height { get; }

    /// <summary>
    /// Decoded pixels per pixel of the full-size image (1 unless decoded at a reduced scale). Boxes and
    /// points that leave the pipeline are in full-size pixels: divide decoded coordinates by it.
    /// </summary>
    public float Scale { get; }

    /// <summary>Width of the full-size (oriented) image, in its pixels.</summary>
    public int FullWidth { get; }

    /// <summary>Height of the full-size (oriented) image, in its pixels.</summary>
    public int FullHeight { get; }

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

    /// <summary>
    /// Bilinear sample of all three channels at (x, y) in pixel-index coordinates (0 outside the
    /// image): one set of weights and one bounds check for the three, with a fast path inside.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SampleRgb(float x, float y, out float r, out float g, out float b)
    {
        float fx0 = MathF.Floor(x), fy0 = MathF.Floor(y);
        int x0 = (int)fx0, y0 = (int)fy0;
        float fx = x - fx0, fy = y - fy0;
        if ((uint)x0 < (uint)(Width - 1) && (uint)y0 < (uint)(Height - 1))
        {
            ref byte p00 = ref MemoryMarshal.GetArrayDataReference(_pixels!);
            p00 = ref Unsafe.Add(ref p00, ((y0 * Width) + x0) * 3);
            ref byte p01 = ref Unsafe.Add(ref p00, Width * 3);
            float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
            r = (w00 * p00) + (w10 * Unsafe.Add(ref p00, 3)) + (w01 * p01) + (w11 * Unsafe.Add(ref p01, 3));
            g = (w00 * Unsafe.Add(ref p00, 1)) + (w10 * Unsafe.Add(ref p00, 4)) + (w01 * Unsafe.Add(ref p01, 1)) + (w11 * Unsafe.Add(ref p01, 4));
            b = (w00 * Unsafe.Add(ref p00, 2)) + (w10 * Unsafe.Add(ref p00, 5)) + (w01 * Unsafe.Add(ref p01, 2)) + (w11 * Unsafe.Add(ref p01, 5));
            return;
        }

        r = Sample(x, y, 0);
        g = Sample(x, y, 1);
        b = Sample(x, y, 2);
    }

    public void Dispose()
    {
        if (_pixels is { } pixels)
        {
            _pixels = null;
            ImageBuffers.Pool.Return(pixels);
        }
    }

    private float At(Span<byte> p, int x, int y, int channel) =>
        (uint)x < (uint)Width && (uint)y < (uint)Height ? p[(((y * Width) + x) * 3) + channel] : 0f;
}
