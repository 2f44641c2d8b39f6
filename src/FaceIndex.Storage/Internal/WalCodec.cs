namespace FaceIndex.Storage.Internal;

/// <summary>
/// Binary form of a write-ahead-log entry: format version byte, kind byte, then the kind's fields
/// (docs/store-format.md). FasterLog frames each entry with its length and a per-entry checksum.
/// </summary>
internal static class WalCodec
{
    /// <summary>Version of the entry format; an entry of an unknown version is refused at replay.</summary>
    public const byte FormatVersion = 1;

    public static void Encode(WalEntry entry, ByteWriter writer)
    {
        writer.Reset();
        writer.WriteByte(entry is AddFacesEntry add ? KvCodec.VersionFor(add.Faces) : FormatVersion);
        writer.WriteByte((byte)entry.Kind);
        switch (entry)
        {
            case CreateCollectionEntry e:
                writer.WriteString(e.Name);
                writer.WriteString(e.ModelVersion);
                writer.WriteInt64(e.CreatedTicks);
                break;
            case DeleteCollectionEntry e:
                writer.WriteString(e.Name);
                break;
            case AddFacesEntry e:
                writer.WriteString(e.Collection);
                writer.WriteString(e.PersonId);
                writer.WriteString(e.ModelVersion);
                writer.WriteBytes(e.ContentHash ?? []);
                writer.WriteMap(e.Tags);
                writer.WriteInt64(e.CreatedTicks);
                writer.WriteVarUInt((ulong)e.Faces.Length);
                foreach (var face in e.Faces)
                {
                    KvCodec.WriteFaceBody(writer, face);
                }

                break;
            case DeleteFaceEntry e:
                writer.WriteString(e.Collection);
                writer.WriteInt64(e.FaceId);
                break;
            case DeletePersonEntry e:
                writer.WriteString(e.Collection);
                writer.WriteString(e.PersonId);
                break;
            case SetPersonMetadataEntry e:
                writer.WriteString(e.Collection);
                writer.WriteString(e.PersonId);
                writer.WriteMap(e.Metadata);
                writer.WriteInt64(e.CreatedTicks);
                break;
            case PutBlobEntry e:
                writer.WriteString(e.Key);
                writer.WriteBytes(e.Value);
                break;
            case DeleteBlobEntry e:
                writer.WriteString(e.Key);
                break;
            default:
                throw new InvalidOperationException("Unknown entry " + entry.GetType().Name);
        }
    }

    /// <summary>Decodes one entry; throws <see cref="InvalidDataException"/> when it is malformed.</summary>
    public static WalEntry Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new ByteReader(bytes);
        var version = reader.ReadByte();
        var kind = (EntryKind)reader.ReadByte();
        if (version != FormatVersion && !(version == KvCodec.SecondaryCodeVersion && kind == EntryKind.AddFaces))
        {
            throw new InvalidDataException($"Unknown log entry format version {version}.");
        }

        WalEntry entry = kind switch
        {
            EntryKind.CreateCollection => new CreateCollectionEntry(reader.ReadString(), reader.ReadString(), reader.ReadInt64()),
            EntryKind.DeleteCollection => new DeleteCollectionEntry(reader.ReadString()),
            EntryKind.AddFaces => DecodeAddFaces(ref reader, version),
            EntryKind.DeleteFace => new DeleteFaceEntry(reader.ReadString(), reader.ReadInt64()),
            EntryKind.DeletePerson => new DeletePersonEntry(reader.ReadString(), reader.ReadString()),
            EntryKind.SetPersonMetadata => new SetPersonMetadataEntry(reader.ReadString(), reader.ReadString(), reader.ReadMap(), reader.ReadInt64()),
            EntryKind.PutBlob => new PutBlobEntry(reader.ReadString(), reader.ReadBytes()),
            EntryKind.DeleteBlob => new DeleteBlobEntry(reader.ReadString()),
            _ => throw new InvalidDataException($"Unknown log entry kind {(byte)kind}."),
        };
        reader.ExpectEnd();
        return entry;
    }

    private static AddFacesEntry DecodeAddFaces(ref ByteReader reader, byte version)
    {
        var collection = reader.ReadString();
        var personId = reader.ReadString();
        var modelVersion = reader.ReadString();
        var hash = reader.ReadBytes();
        var tags = reader.ReadMap();
        var created = reader.ReadInt64();
        var count = reader.ReadLength();
        var faces = new StoredFace[count];
        for (var i = 0; i < faces.Length; i++)
        {
            faces[i] = KvCodec.ReadFaceBody(ref reader, version);
        }

        return new AddFacesEntry(collection, personId, modelVersion, hash.Length == 0 ? null : hash, tags, created, faces);
    }
}
