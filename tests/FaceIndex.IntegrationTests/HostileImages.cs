using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace FaceIndex.IntegrationTests;

/// <summary>
/// Hostile and unusual image files, written byte by byte so that nothing large is committed: a PNG
/// whose header declares 30000×30000 over a tiny body, a complete 1-bit 30000×30000 PNG, 16-bit
/// PNG, a CMYK JPEG (Adobe APP14, baseline, fixed-length Huffman codes), an animated GIF. The face
/// content comes from ../shared/faces at run time. Also linked into the fuzz harness for its seeds.
/// </summary>
internal static class HostileImages
{
    private static readonly uint[] s_crcTable = CrcTable();

    /// <summary>RGBA pixels of an image file, scaled so that its longer side is at most <paramref name="maxSide"/>.</summary>
    public static (byte[] Rgba, int Width, int Height) Pixels(byte[] encoded, int maxSide = 400)
    {
        using var decoded = SKBitmap.Decode(encoded) ?? throw new InvalidDataException("not an image");
        float scale = Math.Min(1f, (float)maxSide / Math.Max(decoded.Width, decoded.Height));
        int w = Math.Max(1, (int)(decoded.Width * scale)), h = Math.Max(1, (int)(decoded.Height * scale));
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var scaled = decoded.Resize(info, new SKSamplingOptions(SKFilterMode.Linear));
        return (scaled.Bytes, w, h);
    }

    /// <summary>A PNG with <paramref name="width"/>×<paramref name="height"/> in its header and one zlib-compressed row of zeros as its whole body.</summary>
    public static byte[] PngBomb(int width, int height)
    {
        var row = new byte[1 + (width * 4)];
        return Png(width, height, bitDepth: 8, colourType: 6, Deflate(row, 1));
    }

    /// <summary>A complete, valid 1-bit greyscale PNG of <paramref name="width"/>×<paramref name="height"/> (all black): a few kilobytes that decode to width × height pixels.</summary>
    public static byte[] PngBlank1Bit(int width, int height)
    {
        var row = new byte[1 + ((width + 7) / 8)];
        return Png(width, height, bitDepth: 1, colourType: 0, Deflate(row, height));
    }

    /// <summary>A 16-bit-per-channel RGB PNG of the pixels.</summary>
    public static byte[] Png16(byte[] rgba, int width, int height)
    {
        int stride = 1 + (width * 6);
        var raw = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    // Big-endian samples; the low byte repeats the high one (v × 257 spans 0..65535).
                    byte v = rgba[(((y * width) + x) * 4) + c];
                    int d = (y * stride) + 1 + (x * 6) + (c * 2);
                    raw[d] = v;
                    raw[d + 1] = v;
                }
            }
        }

        return Png(width, height, bitDepth: 16, colourType: 2, Deflate(raw, 1));
    }

    /// <summary>An 8-bit RGBA PNG of the pixels (encoded by SkiaSharp).</summary>
    public static byte[] Png8(byte[] rgba, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var image = SKImage.FromPixelCopy(info, rgba);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A JPEG whose frame header (SOF) declares <paramref name="width"/>×<paramref name="height"/>, over the body of <paramref name="jpeg"/>.</summary>
    public static byte[] JpegWithDeclaredSize(byte[] jpeg, ushort width, ushort height)
    {
        var bytes = (byte[])jpeg.Clone();
        int i = 2;
        while (i + 9 < bytes.Length && bytes[i] == 0xFF)
        {
            byte marker = bytes[i + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(i + 2));
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 5), height);
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 7), width);
                return bytes;
            }

            i += 2 + length;
        }

        throw new InvalidDataException("no SOF marker");
    }

    /// <summary>
    /// A baseline CMYK JPEG of the pixels, with an Adobe APP14 marker (transform 0) and inverted
    /// samples as Photoshop writes them: K carries the darkness common to C, M and Y.
    /// </summary>
    public static byte[] CmykJpeg(byte[] rgba, int width, int height)
    {
        var planes = new byte[4][];
        for (int c = 0; c < 4; c++)
        {
            planes[c] = new byte[width * height];
        }

        for (int p = 0; p < width * height; p++)
        {
            int r = rgba[p * 4], g = rgba[(p * 4) + 1], b = rgba[(p * 4) + 2];
            int k = 255 - Math.Max(r, Math.Max(g, b));
            int scale = 255 - k;

            // Inks as fractions of what K leaves; stored inverted (255 = no ink).
            int ink(int v) => scale == 0 ? 0 : (scale - v) * 255 / scale;
            planes[0][p] = (byte)(255 - ink(r));
            planes[1][p] = (byte)(255 - ink(g));
            planes[2][p] = (byte)(255 - ink(b));
            planes[3][p] = (byte)(255 - k);
        }

        using var writer = new JpegWriter(width, height, planes);
        return writer.Write();
    }

    /// <summary>A two-frame, looping animated GIF (256 greys); each frame is given as RGBA or null for a flat grey.</summary>
    public static byte[] AnimatedGif(int width, int height, byte[]? first, byte[]? second)
    {
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteLe16(gif, width);
        WriteLe16(gif, height);
        gif.Write([0xF7, 0, 0]); // global colour table of 2^(7+1) entries
        for (int i = 0; i < 256; i++)
        {
            gif.Write([(byte)i, (byte)i, (byte)i]);
        }

        gif.Write([0x21, 0xFF, 11]);
        gif.Write("NETSCAPE2.0"u8);
        gif.Write([3, 1, 0, 0, 0]); // loop forever
        foreach (var frame in new[] { first, second })
        {
            gif.Write([0x21, 0xF9, 4, 0x04, 10, 0, 0, 0]); // graphic control: keep, 100 ms
            gif.WriteByte(0x2C);
            WriteLe16(gif, 0);
            WriteLe16(gif, 0);
            WriteLe16(gif, width);
            WriteLe16(gif, height);
            gif.WriteByte(0);
            var grey = new byte[width * height];
            for (int p = 0; p < grey.Length; p++)
            {
                grey[p] = frame is null ? (byte)128 : (byte)(((frame[p * 4] * 77) + (frame[(p * 4) + 1] * 150) + (frame[(p * 4) + 2] * 29)) >> 8);
            }

            WriteLzw(gif, grey);
        }

        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    /// <summary>
    /// LZW image data of 8-bit indices that only ever uses literal codes: a clear code every 250
    /// codes keeps the code width at 9 bits, which every decoder must accept.
    /// </summary>
    private static void WriteLzw(Stream output, byte[] indices)
    {
        const int Clear = 256, End = 257;
        var bits = new BitWriterLsb();
        bits.Write(Clear, 9);
        int sinceClear = 0;
        foreach (byte index in indices)
        {
            if (sinceClear == 250)
            {
                bits.Write(Clear, 9);
                sinceClear = 0;
            }

            bits.Write(index, 9);
            sinceClear++;
        }

        bits.Write(End, 9);
        var data = bits.ToArray();
        output.WriteByte(8); // minimum code size
        for (int i = 0; i < data.Length; i += 255)
        {
            int n = Math.Min(255, data.Length - i);
            output.WriteByte((byte)n);
            output.Write(data, i, n);
        }

        output.WriteByte(0);
    }

    private static void WriteLe16(Stream s, int value)
    {
        s.WriteByte((byte)value);
        s.WriteByte((byte)(value >> 8));
    }

    /// <summary>The zlib stream of <paramref name="block"/> repeated <paramref name="times"/> times.</summary>
    private static byte[] Deflate(byte[] block, int times)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int i = 0; i < times; i++)
            {
                zlib.Write(block);
            }
        }

        return compressed.ToArray();
    }

    private static byte[] Png(int width, int height, byte bitDepth, byte colourType, byte[] idat)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        Chunk(png, "IHDR"u8, ihdr);
        Chunk(png, "IDAT"u8, idat);
        Chunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        uint crc = Crc(Crc(0xFFFFFFFF, type), data) ^ 0xFFFFFFFF;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        png.Write(word);
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] CrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    /// <summary>Bits packed least-significant first (GIF's LZW order).</summary>
    private sealed class BitWriterLsb
    {
        private readonly List<byte> _bytes = [];
        private int _buffer;
        private int _count;

        public void Write(int code, int width)
        {
            _buffer |= code << _count;
            _count += width;
            while (_count >= 8)
            {
                _bytes.Add((byte)_buffer);
                _buffer >>= 8;
                _count -= 8;
            }
        }

        public byte[] ToArray()
        {
            if (_count > 0)
            {
                _bytes.Add((byte)_buffer);
                _count = 0;
            }

            return [.. _bytes];
        }
    }

    /// <summary>
    /// A minimal baseline JPEG encoder for N full-resolution components: one quantisation table of
    /// 4s, one DC table (sizes 0–11, 4-bit codes) and one AC table (all 162 symbols, 8-bit codes).
    /// </summary>
    private sealed class JpegWriter(int width, int height, byte[][] planes) : IDisposable
    {
        private const int Quant = 4;
        private static readonly int[] s_zigzag = Zigzag();
        private static readonly byte[] s_acSymbols = AcSymbols();
        private readonly MemoryStream _out = new();
        private int _bits;
        private int _bitCount;

        public void Dispose() => _out.Dispose();

        public byte[] Write()
        {
            int n = planes.Length;
            _out.Write([0xFF, 0xD8]);
            _out.Write([0xFF, 0xEE, 0, 14]);
            _out.Write("Adobe"u8);
            _out.Write([0, 100, 0, 0, 0, 0, 0]); // version 100, flags, transform 0 (CMYK as is)
            _out.Write([0xFF, 0xDB, 0, 67, 0]);
            for (int i = 0; i < 64; i++)
            {
                _out.WriteByte(Quant);
            }

            _out.Write([0xFF, 0xC0, 0, (byte)(8 + (3 * n)), 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)n]);
            for (int c = 0; c < n; c++)
            {
                _out.Write([(byte)(c + 1), 0x11, 0]);
            }

            var dcCounts = new byte[16];
            dcCounts[3] = 12;
            _out.Write([0xFF, 0xC4, 0, 2 + 1 + 16 + 12, 0x00]);
            _out.Write(dcCounts);
            for (byte s = 0; s < 12; s++)
            {
                _out.WriteByte(s);
            }

            var acCounts = new byte[16];
            acCounts[7] = (byte)s_acSymbols.Length;
            int acLength = 2 + 1 + 16 + s_acSymbols.Length;
            _out.Write([0xFF, 0xC4, (byte)(acLength >> 8), (byte)acLength, 0x10]);
            _out.Write(acCounts);
            _out.Write(s_acSymbols);
            _out.Write([0xFF, 0xDA, 0, (byte)(6 + (2 * n)), (byte)n]);
            for (int c = 0; c < n; c++)
            {
                _out.Write([(byte)(c + 1), 0x00]);
            }

            _out.Write([0, 63, 0]);
            var previousDc = new int[n];
            var block = new double[64];
            for (int by = 0; by < (height + 7) / 8; by++)
            {
                for (int bx = 0; bx < (width + 7) / 8; bx++)
                {
                    for (int c = 0; c < n; c++)
                    {
                        Load(planes[c], bx, by, block);
                        EncodeBlock(block, ref previousDc[c]);
                    }
                }
            }

            if (_bitCount > 0)
            {
                PutBits((1 << (8 - _bitCount)) - 1, 8 - _bitCount); // pad with ones
            }

            _out.Write([0xFF, 0xD9]);
            return _out.ToArray();
        }

        private void Load(byte[] plane, int bx, int by, double[] block)
        {
            for (int y = 0; y < 8; y++)
            {
                int sy = Math.Min(height - 1, (by * 8) + y);
                for (int x = 0; x < 8; x++)
                {
                    int sx = Math.Min(width - 1, (bx * 8) + x);
                    block[(y * 8) + x] = plane[(sy * width) + sx] - 128.0;
                }
            }
        }

        private void EncodeBlock(double[] block, ref int previousDc)
        {
            Span<int> coefficients = stackalloc int[64];
            for (int v = 0; v < 8; v++)
            {
                for (int u = 0; u < 8; u++)
                {
                    double sum = 0;
                    for (int y = 0; y < 8; y++)
                    {
                        for (int x = 0; x < 8; x++)
                        {
                            sum += block[(y * 8) + x] * Math.Cos(((2 * x) + 1) * u * Math.PI / 16) * Math.Cos(((2 * y) + 1) * v * Math.PI / 16);
                        }
                    }

                    double cu = u == 0 ? Math.Sqrt(0.5) : 1, cv = v == 0 ? Math.Sqrt(0.5) : 1;
                    coefficients[(v * 8) + u] = (int)Math.Round(0.25 * cu * cv * sum / Quant);
                }
            }

            int dc = coefficients[0];
            int diff = dc - previousDc;
            previousDc = dc;
            int size = SizeOf(diff);
            PutBits(size, 4);
            PutValue(diff, size);
            int run = 0;
            for (int k = 1; k < 64; k++)
            {
                int ac = coefficients[s_zigzag[k]];
                if (ac == 0)
                {
                    run++;
                    continue;
                }

                while (run > 15)
                {
                    PutBits(Array.IndexOf(s_acSymbols, (byte)0xF0), 8);
                    run -= 16;
                }

                int acSize = SizeOf(ac);
                PutBits(Array.IndexOf(s_acSymbols, (byte)((run << 4) | acSize)), 8);
                PutValue(ac, acSize);
                run = 0;
            }

            if (run > 0)
            {
                PutBits(0, 8); // end of block: symbol 0x00 is code 0
            }
        }

        private static int SizeOf(int value)
        {
            int magnitude = Math.Abs(value), size = 0;
            while (magnitude > 0)
            {
                size++;
                magnitude >>= 1;
            }

            return size;
        }

        private void PutValue(int value, int size)
        {
            if (size > 0)
            {
                PutBits(value >= 0 ? value : value + (1 << size) - 1, size);
            }
        }

        private void PutBits(int value, int count)
        {
            for (int i = count - 1; i >= 0; i--)
            {
                _bits = (_bits << 1) | ((value >> i) & 1);
                if (++_bitCount == 8)
                {
                    _out.WriteByte((byte)_bits);
                    if (_bits == 0xFF)
                    {
                        _out.WriteByte(0); // byte stuffing
                    }

                    _bits = 0;
                    _bitCount = 0;
                }
            }
        }

        /// <summary>Zigzag position k → raster index, walking the anti-diagonals alternately.</summary>
        private static int[] Zigzag()
        {
            var order = new int[64];
            int k = 0;
            for (int d = 0; d < 15; d++)
            {
                for (int i = 0; i <= d; i++)
                {
                    int row = d % 2 == 0 ? d - i : i, col = d - row;
                    if (row < 8 && col < 8)
                    {
                        order[k++] = (row * 8) + col;
                    }
                }
            }

            return order;
        }

        private static byte[] AcSymbols()
        {
            var symbols = new List<byte> { 0x00, 0xF0 };
            for (int run = 0; run < 16; run++)
            {
                for (int size = 1; size <= 10; size++)
                {
                    symbols.Add((byte)((run << 4) | size));
                }
            }

            return [.. symbols];
        }
    }
}
