using FaceIndex.Core;

namespace FaceIndex.Storage.Internal;

/// <summary>Person value decoded for update by the writer.</summary>
internal sealed class PersonState
{
    public long CreatedTicks { get; set; }

    public IReadOnlyDictionary<string, string> Metadata { get; set; } = EmptyMap.Instance;

    public List<long> FaceIds { get; } = [];

    /// <summary>Content hashes with a live hash key for this person (so that deleting the person finds them).</summary>
    public List<byte[]> ContentHashes { get; } = [];
}

/// <summary>
/// Value formats of the key-value store (docs/store-format.md). Every value opens with a format
/// version byte, so that a value is never empty and a future format can be told apart.
/// </summary>
internal static class KvCodec
{
    public const byte FormatVersion = 1;

    /// <summary>
    /// The format of a face value (and of an add-faces log entry) that holds a second code (a fused model's
    /// face). Values without one keep writing <see cref="FormatVersion"/>, so a store without fused
    /// collections stays readable by builds that predate the second code; both are read.
    /// </summary>
    public const byte SecondaryCodeVersion = 2;

    private const byte HasBox = 1;
    private const byte HasSecondary = 2;

    /// <summary>
    /// Face id, 128 vector bytes, flags, box (when flagged), detection score, then (format 2, when flagged)
    /// the 128 bytes of the second code.
    /// </summary>
    public static void WriteFaceBody(ByteWriter writer, in StoredFace face)
    {
        writer.WriteInt64(face.FaceId);
        writer.WriteRaw(face.Vector.AsBytes());
        writer.WriteByte((byte)((face.Box.HasValue ? HasBox : 0) | (face.Secondary.HasValue ? HasSecondary : 0)));
        if (face.Box is { } b)
        {
            writer.WriteSingle(b.X);
            writer.WriteSingle(b.Y);
            writer.WriteSingle(b.Width);
            writer.WriteSingle(b.Height);
        }

        writer.WriteSingle(face.DetectionScore);
        if (face.Secondary is { } secondary)
        {
            writer.WriteRaw(secondary.AsBytes());
        }
    }

    /// <summary>Reads a face body of the given format version (a second code is refused in format 1).</summary>
    public static StoredFace ReadFaceBody(ref ByteReader reader, byte version)
    {
        var id = reader.ReadInt64();
        var vector = FaceVector.FromBytes(reader.ReadRaw(FaceVector.Dimensions));
        var flags = reader.ReadByte();
        if ((flags & ~(HasBox | HasSecondary)) != 0 || ((flags & HasSecondary) != 0 && version < SecondaryCodeVersion))
        {
            throw new InvalidDataException($"Face flags {flags} are not valid in format version {version}.");
        }

        BoundingBox? box = (flags & HasBox) != 0
            ? new BoundingBox(reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle())
            : null;
        float score = reader.ReadSingle();
        FaceVector? secondary = (flags & HasSecondary) != 0 ? FaceVector.FromBytes(reader.ReadRaw(FaceVector.Dimensions)) : null;
        return new StoredFace(id, vector, box, score, secondary);
    }

    /// <summary>The format version of a face value or log entry holding these faces.</summary>
    public static byte VersionFor(ReadOnlySpan<StoredFace> faces)
    {
        foreach (var face in faces)
        {
            if (face.Secondary.HasValue)
            {
                return SecondaryCodeVersion;
            }
        }

        return FormatVersion;
    }

    /// <summary>Face value: version, face body, collection, person, model, hash (empty = none), created ticks, tags, sequence.</summary>
    public static void WriteFace(ByteWriter writer, AddFacesEntry entry, in StoredFace face, long sequence)
    {
        writer.Reset();
        writer.WriteByte(face.Secondary.HasValue ? SecondaryCodeVersion : FormatVersion);
        WriteFaceBody(writer, face);
        writer.WriteString(entry.Collection);
        writer.WriteString(entry.PersonId);
        writer.WriteString(entry.ModelVersion);
        writer.WriteBytes(entry.ContentHash ?? []);
        writer.WriteInt64(entry.CreatedTicks);
        writer.WriteMap(entry.Tags);
        writer.WriteInt64(sequence);
    }

    public static FaceRecord ReadFace(ReadOnlySpan<byte> value)
    {
        var reader = new ByteReader(value);
        var version = CheckFaceVersion(ref reader);
        var face = ReadFaceBody(ref reader, version);
        var collection = reader.ReadString();
        var person = reader.ReadString();
        var model = reader.ReadString();
        var hash = reader.ReadBytes();
        var created = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var tags = reader.ReadMap();
        var sequence = reader.ReadInt64();
        reader.ExpectEnd();
        return new FaceRecord(face.FaceId, collection, person, face.Vector, model, hash.Length == 0 ? null : hash, face.Box, face.DetectionScore, created, tags, sequence)
        {
            SecondaryVector = face.Secondary,
        };
    }

    /// <summary>Person value: version, created ticks, metadata, face ids (count + int64s), content hashes (count + byte strings).</summary>
    public static void WritePerson(ByteWriter writer, PersonState person)
    {
        writer.Reset();
        writer.WriteByte(FormatVersion);
        writer.WriteInt64(person.CreatedTicks);
        writer.WriteMap(person.Metadata);
        writer.WriteVarUInt((ulong)person.FaceIds.Count);
        foreach (var id in person.FaceIds)
        {
            writer.WriteInt64(id);
        }

        writer.WriteVarUInt((ulong)person.ContentHashes.Count);
        foreach (var hash in person.ContentHashes)
        {
            writer.WriteBytes(hash);
        }
    }

    public static PersonState ReadPerson(ReadOnlySpan<byte> value)
    {
        var reader = new ByteReader(value);
        CheckVersion(ref reader);
        var person = new PersonState { CreatedTicks = reader.ReadInt64(), Metadata = reader.ReadMap() };
        var faces = reader.ReadLength();
        for (var i = 0; i < faces; i++)
        {
            person.FaceIds.Add(reader.ReadInt64());
        }

        var hashes = reader.ReadLength();
        for (var i = 0; i < hashes; i++)
        {
            person.ContentHashes.Add(reader.ReadBytes());
        }

        reader.ExpectEnd();
        return person;
    }

    /// <summary>Content-hash value: version, face ids (count + int64s).</summary>
    public static void WriteFaceIds(ByteWriter writer, IReadOnlyList<long> faceIds)
    {
        writer.Reset();
        writer.WriteByte(FormatVersion);
        writer.WriteVarUInt((ulong)faceIds.Count);
        foreach (var id in faceIds)
        {
            writer.WriteInt64(id);
        }
    }

    public static List<long> ReadFaceIds(ReadOnlySpan<byte> value)
    {
        var reader = new ByteReader(value);
        CheckVersion(ref reader);
        var count = reader.ReadLength();
        var ids = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(reader.ReadInt64());
        }

        reader.ExpectEnd();
        return ids;
    }

    /// <summary>Collection value: version, model version, created ticks.</summary>
    public static void WriteCollection(ByteWriter writer, string modelVersion, long createdTicks)
    {
        writer.Reset();
        writer.WriteByte(FormatVersion);
        writer.WriteString(modelVersion);
        writer.WriteInt64(createdTicks);
    }

    public static (string ModelVersion, long CreatedTicks) ReadCollection(ReadOnlySpan<byte> value)
    {
        var reader = new ByteReader(value);
        CheckVersion(ref reader);
        var result = (reader.ReadString(), reader.ReadInt64());
        reader.ExpectEnd();
        return result;
    }

    /// <summary>Blob value: version, then the raw bytes.</summary>
    public static void WriteBlob(ByteWriter writer, ReadOnlySpan<byte> blob)
    {
        writer.Reset();
        writer.WriteByte(FormatVersion);
        writer.WriteRaw(blob);
    }

    public static byte[] ReadBlob(ReadOnlySpan<byte> value)
    {
        var reader = new ByteReader(value);
        CheckVersion(ref reader);
        return value[1..].ToArray();
    }

    /// <summary>Collection and person of a face value, without decoding the rest (recovery scan).</summary>
    public static (string Collection, string PersonId) ReadFaceOwner(ReadOnlySpan<byte> value)
    {
        var reader = new ByteReader(value);
        var version = CheckFaceVersion(ref reader);
        ReadFaceBody(ref reader, version);
        var collection = reader.ReadString();
        return (collection, reader.ReadString());
    }

    /// <summary>Reads the version byte of a face value: format 1, or 2 (with a second code).</summary>
    private static byte CheckFaceVersion(ref ByteReader reader)
    {
        var version = reader.ReadByte();
        if (version is not (FormatVersion or SecondaryCodeVersion))
        {
            throw new InvalidDataException($"Unknown store value format version {version}.");
        }

        return version;
    }

    private static void CheckVersion(ref ByteReader reader)
    {
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unknown store value format version {version}.");
        }
    }
}
