using System.Buffers.Binary;
using System.Text;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// Appends the little-endian primitives of the store formats (docs/store-format.md) to a growing
/// buffer: fixed-width integers and floats, LEB128 unsigned varints, and length-prefixed UTF-8 strings
/// and byte strings. One instance is reused by the single writer.
/// </summary>
internal sealed class ByteWriter
{
    private byte[] _buffer;
    private int _length;

    public ByteWriter(int capacity = 256) => _buffer = new byte[capacity];

    /// <summary>Bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    /// <summary>Number of bytes written so far.</summary>
    public int Length => _length;

    /// <summary>Forgets the content and keeps the buffer.</summary>
    public void Reset() => _length = 0;

    /// <summary>A copy of the bytes written.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    public void WriteByte(byte value) => Take(1)[0] = value;

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleLittleEndian(Take(4), value);

    /// <summary>LEB128: seven bits a byte, high bit set on every byte but the last.</summary>
    public void WriteVarUInt(ulong value)
    {
        while (value >= 0x80)
        {
            WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        WriteByte((byte)value);
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));

    /// <summary>Varint length, then the bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarUInt((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    /// <summary>Varint byte length, then the UTF-8 bytes.</summary>
    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt((ulong)count);
        Encoding.UTF8.GetBytes(value, Take(count));
    }

    /// <summary>Varint count, then key and value strings in ordinal key order (so equal maps encode equally).</summary>
    public void WriteMap(IReadOnlyDictionary<string, string>? map)
    {
        if (map is null || map.Count == 0)
        {
            WriteVarUInt(0);
            return;
        }

        WriteVarUInt((ulong)map.Count);
        foreach (var pair in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            WriteString(pair.Key);
            WriteString(pair.Value);
        }
    }

    private Span<byte> Take(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
