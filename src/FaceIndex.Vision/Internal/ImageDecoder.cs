using System.Runtime.InteropServices;
using FaceIndex.Core;
using SkiaSharp;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// Decodes JPEG, PNG, WebP, BMP and GIF (first frame) with SkiaSharp into an oriented
/// <see cref="RgbImage"/>. The pixel budget and the minimum size are checked from the header,
/// before any pixel is decoded.
/// </summary>
internal sealed class ImageDecoder
{
    private readonly long _maxPixels;
    private readonly int _minSide;

    public ImageDecoder(long maxPixels, int minSide)
    {
        _maxPixels = maxPixels;
        _minSide = minSide;
    }

    /// <summary>The scales a JPEG decoder reduces by in its DCT (libjpeg-turbo: 1/8, 1/4, 1/2), smallest first.</summary>
    private static readonly float[] s_scales = [0.125f, 0.25f, 0.5f];

    /// <summary>
    /// Decodes the bytes, at a reduced scale when the codec offers one (JPEG and WebP: 1/8, 1/4, 1/2) and
    /// the image's shorter side stays at least <paramref name="minShorterSide"/> pixels; 0 = full size.
    /// Decoding a 12-megapixel JPEG at 1/4 costs about a tenth of the full decode.
    /// </summary>
    /// <exception cref="FaceIndexException">ImageUnreadable, ImageTruncated, ImageTooLarge or ImageTooSmall.</exception>
    public RgbImage Decode(ReadOnlySpan<byte> encoded, int minShorterSide = 0)
    {
        if (encoded.IsEmpty)
        {
            throw new FaceIndexException(FaceIndexError.ImageUnreadable, "The image is empty (0 bytes).");
        }

        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
        {
            // Too few bytes to identify a format also reads as "incomplete": it is a truncated image
            // only when the bytes start like one of the supported formats.
            bool truncated = createResult == SKCodecResult.IncompleteInput && StartsLikeImage(encoded);
            throw new FaceIndexException(
                truncated ? FaceIndexError.ImageTruncated : FaceIndexError.ImageUnreadable,
                truncated
                    ? "The image is truncated: its header is incomplete."
                    : "The bytes are not an image in a supported format (JPEG, PNG, WebP, BMP, GIF).");
        }

        int width = codec.Info.Width, height = codec.Info.Height;
        if ((long)width * height > _maxPixels)
        {
            throw new FaceIndexException(FaceIndexError.ImageTooLarge, $"The image is {width}×{height} = {(long)width * height} pixels, over the budget of {_maxPixels} (Vision:MaxPixels).");
        }

        if (Math.Min(width, height) < _minSide)
        {
            throw new FaceIndexException(FaceIndexError.ImageTooSmall, $"The image is {width}×{height} pixels; a face needs at least {_minSide} pixels on each side.");
        }

        var size = ScaledSize(codec, width, height, minShorterSide);
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = ImageBuffers.Pool.Rent(info.BytesSize);
        try
        {
            var result = DecodePixels(codec, info, rgba);
            if (result == SKCodecResult.InvalidScale && (size.Width != width || size.Height != height))
            {
                info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
                ImageBuffers.Pool.Return(rgba);
                rgba = ImageBuffers.Pool.Rent(info.BytesSize);
                result = DecodePixels(codec, info, rgba);
            }

            if (result != SKCodecResult.Success)
            {
                throw result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
                    ? new FaceIndexException(FaceIndexError.ImageTruncated, $"The image is truncated or corrupt part-way ({result}).")
                    : new FaceIndexException(FaceIndexError.ImageUnreadable, $"The image could not be decoded ({result}).");
            }

            return Orient(rgba, info.Width, info.Height, codec.EncodedOrigin, width, height);
        }
        finally
        {
            ImageBuffers.Pool.Return(rgba);
        }
    }

    /// <summary>The smallest size the codec decodes to whose shorter side is at least <paramref name="minShorterSide"/>; the full size otherwise.</summary>
    private static SKSizeI ScaledSize(SKCodec codec, int width, int height, int minShorterSide)
    {
        if (minShorterSide > 0)
        {
            foreach (var scale in s_scales)
            {
                var size = codec.GetScaledDimensions(scale);
                if (Math.Min(size.Width, size.Height) >= minShorterSide && size.Width < width)
                {
                    return size;
                }
            }
        }

        return new SKSizeI(width, height);
    }

    /// <summary>True when the bytes begin with the signature of JPEG, PNG, GIF, BMP or WebP (or a prefix of one).</summary>
    internal static bool StartsLikeImage(ReadOnlySpan<byte> bytes)
    {
        return Matches(bytes, [0xFF, 0xD8, 0xFF])
            || Matches(bytes, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])
            || Matches(bytes, "GIF8"u8)
            || Matches(bytes, "BM"u8)
            || (Matches(bytes, "RIFF"u8) && (bytes.Length <= 8 || Matches(bytes[8..], "WEBP"u8)));

        // A signature matches when the bytes hold all of it, or are cut short inside it.
        static bool Matches(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> signature)
        {
            int n = Math.Min(bytes.Length, signature.Length);
            return n > 0 && bytes[..n].SequenceEqual(signature[..n]);
        }
    }

    private static unsafe SKCodecResult DecodePixels(SKCodec codec, SKImageInfo info, byte[] rgba)
    {
        fixed (byte* p = rgba)
        {
            // Frame 0: the first frame of an animated GIF or WebP, the image itself otherwise.
            return codec.GetPixels(info, (IntPtr)p, info.RowBytes, new SKCodecOptions(0));
        }
    }

    /// <summary>Drops alpha and applies the EXIF orientation, so that boxes are in displayed pixels.</summary>
    private static RgbImage Orient(byte[] rgba, int width, int height, SKEncodedOrigin origin, int fullWidth, int fullHeight)
    {
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outW = swap ? height : width, outH = swap ? width : height;
        var image = swap ? new RgbImage(outW, outH, fullHeight, fullWidth) : new RgbImage(outW, outH, fullWidth, fullHeight);
        var dst = image.Pixels;
        var src = MemoryMarshal.Cast<byte, uint>(rgba.AsSpan(0, width * height * 4));

        // Source pixel of output (ox, oy) = first + ox·stepX + oy·stepY: one affine walk per orientation.
        int last = width * (height - 1);
        var (first, stepX, stepY) = origin switch
        {
            SKEncodedOrigin.TopRight => (width - 1, -1, width),
            SKEncodedOrigin.BottomRight => (last + width - 1, -1, -width),
            SKEncodedOrigin.BottomLeft => (last, 1, -width),
            SKEncodedOrigin.LeftTop => (0, width, 1),
            SKEncodedOrigin.RightTop => (last, -width, 1),
            SKEncodedOrigin.RightBottom => (last + width - 1, -width, -1),
            SKEncodedOrigin.LeftBottom => (width - 1, width, -1),
            _ => (0, 1, width),
        };
        for (int oy = 0; oy < outH; oy++)
        {
            var row = dst.Slice(oy * outW * 3, outW * 3);
            int s = first + (oy * stepY);
            for (int ox = 0; ox < row.Length; ox += 3, s += stepX)
            {
                uint px = src[s];
                row[ox] = (byte)px;
                row[ox + 1] = (byte)(px >> 8);
                row[ox + 2] = (byte)(px >> 16);
            }
        }

        return image;
    }
}
