using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// Reads what <see cref="ByteWriter"/> wrote. Every read checks bounds and throws
/// <see cref="InvalidDataException"/> on truncated or malformed input, so that a damaged record is
/// reported, never misread.
/// </summary>
internal ref struct ByteReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ByteReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>True when every byte was consumed.</summary>
    public readonly bool AtEnd => _position == _data.Length;

    public byte ReadByte() => Take(1)[0];

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public ulong ReadVarUInt()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        Throw("varint longer than 10 bytes");
        return 0;
    }

    /// <summary>A varint that must fit an int and the remaining input.</summary>
    public int ReadLength()
    {
        var length = ReadVarUInt();
        if (length > (ulong)(_data.Length - _position))
        {
            Throw($"length {length} past the end");
        }

        return (int)length;
    }

    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    public byte[] ReadBytes() => Take(ReadLength()).ToArray();

    public string ReadString() => Encoding.UTF8.GetString(Take(ReadLength()));

    public IReadOnlyDictionary<string, string> ReadMap()
    {
        var count = ReadLength();
        if (count == 0)
        {
            return EmptyMap.Instance;
        }

        var map = new Dictionary<string, string>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = ReadString();
            map[key] = ReadString();
        }

        return map;
    }

    /// <summary>Throws unless every byte was consumed.</summary>
    public readonly void ExpectEnd()
    {
        if (!AtEnd)
        {
            Throw($"{_data.Length - _position} trailing bytes");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            Throw($"{count} bytes wanted at {_position} of {_data.Length}");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    [DoesNotReturn]
    private static void Throw(string what) => throw new InvalidDataException("Malformed store record: " + what + ".");
}

/// <summary>The shared empty map returned for absent tags and metadata.</summary>
internal static class EmptyMap
{
    public static readonly IReadOnlyDictionary<string, string> Instance = new Dictionary<string, string>(0, StringComparer.Ordinal).AsReadOnly();
}
