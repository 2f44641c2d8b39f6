using System.Buffers.Binary;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// Key layout of the key-value store: a kind byte, then the key's fields, strings as varint length +
/// UTF-8 (so that no separator byte can be forged by a name). See docs/store-format.md.
/// </summary>
internal static class Keys
{
    public const byte Face = 0x01;
    public const byte Person = 0x02;
    public const byte ContentHash = 0x03;
    public const byte Collection = 0x04;
    public const byte Blob = 0x05;

    /// <summary>0x01, face id (int64 little-endian).</summary>
    public static byte[] ForFace(long faceId)
    {
        var key = new byte[9];
        key[0] = Face;
        BinaryPrimitives.WriteInt64LittleEndian(key.AsSpan(1), faceId);
        return key;
    }

    /// <summary>0x02, collection, person id.</summary>
    public static byte[] ForPerson(string collection, string personId)
    {
        var writer = new ByteWriter(64);
        writer.WriteByte(Person);
        writer.WriteString(collection);
        writer.WriteString(personId);
        return writer.ToArray();
    }

    /// <summary>0x03, collection, person id, content hash bytes.</summary>
    public static byte[] ForContentHash(string collection, string personId, ReadOnlySpan<byte> hash)
    {
        var writer = new ByteWriter(96);
        writer.WriteByte(ContentHash);
        writer.WriteString(collection);
        writer.WriteString(personId);
        writer.WriteBytes(hash);
        return writer.ToArray();
    }

    /// <summary>0x04, collection name.</summary>
    public static byte[] ForCollection(string name)
    {
        var writer = new ByteWriter(32);
        writer.WriteByte(Collection);
        writer.WriteString(name);
        return writer.ToArray();
    }

    /// <summary>0x05, blob key.</summary>
    public static byte[] ForBlob(string key)
    {
        var writer = new ByteWriter(32);
        writer.WriteByte(Blob);
        writer.WriteString(key);
        return writer.ToArray();
    }

    /// <summary>The collection and person id of a person key.</summary>
    public static (string Collection, string PersonId) ParsePerson(ReadOnlySpan<byte> key)
    {
        var reader = new ByteReader(key[1..]);
        var collection = reader.ReadString();
        var person = reader.ReadString();
        reader.ExpectEnd();
        return (collection, person);
    }

    /// <summary>The name of a collection key, or the key of a blob key.</summary>
    public static string ParseName(ReadOnlySpan<byte> key)
    {
        var reader = new ByteReader(key[1..]);
        var name = reader.ReadString();
        reader.ExpectEnd();
        return name;
    }
}
