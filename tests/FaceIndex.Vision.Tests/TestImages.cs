using System.Buffers.Binary;
using FaceIndex.Testing;
using SkiaSharp;

namespace FaceIndex.Vision.Tests;

/// <summary>
/// Test images: the deepface photographs, and images generated from them at run time (other
/// formats, EXIF orientations, synthetic no-face pictures). SkiaSharp decodes and encodes JPEG,
/// PNG and WebP; it has no BMP or GIF encoder, so those two are written here byte by byte.
/// </summary>
internal static class TestImages
{
    /// <summary>The bytes of a deepface image.</summary>
    public static byte[] Deepface(string file) => File.ReadAllBytes(TestPaths.Faces("deepface", file));

    /// <summary>Decodes an encoded image to an RGBA bitmap (no EXIF orientation applied).</summary>
    public static SKBitmap Decode(byte[] encoded) =>
        SKBitmap.Decode(encoded) ?? throw new InvalidOperationException("SkiaSharp could not decode the test image.");

    /// <summary>Encodes with one of SkiaSharp's encoders (JPEG, PNG, WebP; WebP at quality 100 is lossless).</summary>
    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}.");
        return data.ToArray();
    }

    /// <summary>A 24-bit uncompressed BMP (BITMAPINFOHEADER, rows bottom-up, padded to 4 bytes).</summary>
    public static byte[] EncodeBmp(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height, stride = ((w * 3) + 3) & ~3;
        var bytes = new byte[54 + (stride * h)];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), h);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * h);
        for (int y = 0; y < h; y++)
        {
            int row = 54 + ((h - 1 - y) * stride);
            for (int x = 0; x < w; x++)
            {
                var c = bitmap.GetPixel(x, y);
                bytes[row + (3 * x)] = c.Blue;
                bytes[row + (3 * x) + 1] = c.Green;
                bytes[row + (3 * x) + 2] = c.Red;
            }
        }

        return bytes;
    }

    /// <summary>
    /// A GIF89a with one frame per bitmap (all the size of the first), colours mapped to a fixed
    /// 6×7×6 palette. The LZW stream uses literal codes only (a clear code every 254 pixels keeps
    /// the code width at 9 bits): valid GIF, simple to write.
    /// </summary>
    public static byte[] EncodeGif(params SKBitmap[] frames)
    {
        int w = frames[0].Width, h = frames[0].Height;
        var gif = new List<byte>();
        gif.AddRange("GIF89a"u8.ToArray());
        AddUInt16(gif, w);
        AddUInt16(gif, h);
        gif.Add(0xF7); // global colour table of 256 entries, 8 bits per primary
        gif.Add(0);
        gif.Add(0);
        for (int i = 0; i < 256; i++)
        {
            int index = Math.Min(i, 251);
            gif.Add((byte)(index / 42 * 51));
            gif.Add((byte)(index / 6 % 7 * 255 / 6));
            gif.Add((byte)(index % 6 * 51));
        }

        foreach (var frame in frames)
        {
            gif.AddRange([0x21, 0xF9, 0x04, 0x00, 10, 0, 0, 0]); // graphic control: 0.1 s per frame
            gif.Add(0x2C);
            AddUInt16(gif, 0);
            AddUInt16(gif, 0);
            AddUInt16(gif, w);
            AddUInt16(gif, h);
            gif.Add(0);
            gif.Add(8); // LZW minimum code size
            var codes = new BitWriter();
            int run = 0;
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    if (run % 254 == 0)
                    {
                        codes.Write(256, 9);
                    }

                    var c = frame.GetPixel(x, y);
                    int r = (c.Red + 25) / 51, g = ((c.Green * 6) + 127) / 255, b = (c.Blue + 25) / 51;
                    codes.Write((r * 42) + (g * 6) + b, 9);
                    run++;
                }
            }

            codes.Write(257, 9);
            var data = codes.ToArray();
            for (int i = 0; i < data.Length; i += 255)
            {
                int n = Math.Min(255, data.Length - i);
                gif.Add((byte)n);
                gif.AddRange(data.AsSpan(i, n).ToArray());
            }

            gif.Add(0);
        }

        gif.Add(0x3B);
        return [.. gif];
    }

    /// <summary>
    /// Re-encodes <paramref name="original"/> as a JPEG whose stored pixels are transformed so
    /// that a viewer honouring EXIF orientation <paramref name="orientation"/> shows the original;
    /// the APP1/Exif segment holding the tag is written here, right after SOI.
    /// </summary>
    public static byte[] JpegWithOrientation(SKBitmap original, int orientation)
    {
        int w = original.Width, h = original.Height;
        bool swap = orientation is 5 or 6 or 7 or 8;
        using var stored = new SKBitmap(swap ? h : w, swap ? w : h, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int y = 0; y < stored.Height; y++)
        {
            for (int x = 0; x < stored.Width; x++)
            {
                // Where the stored pixel (x, y) appears once displayed.
                (int ox, int oy) = orientation switch
                {
                    2 => (w - 1 - x, y),         // mirrored horizontally
                    3 => (w - 1 - x, h - 1 - y), // rotated 180°
                    4 => (x, h - 1 - y),         // mirrored vertically
                    5 => (y, x),                 // transposed
                    6 => (w - 1 - y, x),         // displayed after a 90° clockwise turn
                    7 => (w - 1 - y, h - 1 - x), // transverse
                    8 => (y, h - 1 - x),         // displayed after a 90° counter-clockwise turn
                    _ => (x, y),
                };
                stored.SetPixel(x, y, original.GetPixel(ox, oy));
            }
        }

        var jpeg = Encode(stored, SKEncodedImageFormat.Jpeg, 95);
        return InsertExifOrientation(jpeg, orientation);
    }

    /// <summary>Inserts an APP1 Exif segment (little-endian TIFF, IFD0 with one Orientation entry) after SOI.</summary>
    public static byte[] InsertExifOrientation(byte[] jpeg, int orientation)
    {
        if (jpeg[0] != 0xFF || jpeg[1] != 0xD8)
        {
            throw new ArgumentException("Not a JPEG.", nameof(jpeg));
        }

        var segment = new byte[2 + 2 + 6 + 26];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(segment.Length - 2));
        "Exif\0\0"u8.CopyTo(segment.AsSpan(4));
        var tiff = segment.AsSpan(10);
        "II"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff[2..], 42);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff[4..], 8);      // IFD0 offset
        BinaryPrimitives.WriteUInt16LittleEndian(tiff[8..], 1);      // one entry
        BinaryPrimitives.WriteUInt16LittleEndian(tiff[10..], 0x0112); // Orientation
        BinaryPrimitives.WriteUInt16LittleEndian(tiff[12..], 3);     // SHORT
        BinaryPrimitives.WriteUInt32LittleEndian(tiff[14..], 1);     // count
        BinaryPrimitives.WriteUInt16LittleEndian(tiff[18..], (ushort)orientation);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff[22..], 0);     // no next IFD
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>A picture with no face: smooth colour gradients and soft noise (fixed seed).</summary>
    public static SKBitmap NoFace(int width, int height)
    {
        var random = new Random(7);
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int n = random.Next(16);
                bitmap.SetPixel(x, y, new SKColor((byte)((x * 255 / width) ^ n), (byte)((y * 255 / height) ^ n), (byte)(128 + n)));
            }
        }

        return bitmap;
    }

    /// <summary>A bitmap filled with one colour.</summary>
    public static SKBitmap Solid(int width, int height, SKColor colour)
    {
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        bitmap.Erase(colour);
        return bitmap;
    }

    private static void AddUInt16(List<byte> bytes, int value)
    {
        bytes.Add((byte)value);
        bytes.Add((byte)(value >> 8));
    }

    /// <summary>Packs variable-width codes least-significant bit first, as GIF's LZW stream wants.</summary>
    private sealed class BitWriter
    {
        private readonly List<byte> _bytes = [];
        private int _buffer;
        private int _bits;

        public void Write(int code, int width)
        {
            _buffer |= code << _bits;
            _bits += width;
            while (_bits >= 8)
            {
                _bytes.Add((byte)_buffer);
                _buffer >>= 8;
                _bits -= 8;
            }
        }

        public byte[] ToArray()
        {
            if (_bits > 0)
            {
                _bytes.Add((byte)_buffer);
                _buffer = 0;
                _bits = 0;
            }

            return [.. _bytes];
        }
    }
}
