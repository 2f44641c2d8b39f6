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

                // The face ids follow the fields of format 1's entry: older entries end before them.
                writer.WriteVarUInt((ulong)(e.FaceIds?.Length ?? 0));
                foreach (var faceId in e.FaceIds ?? [])
                {
                    writer.WriteInt64(faceId);
                }

                break;
            case SetPersonMetadataEntry e:
                writer.WriteString(e.Collection);
                writer.WriteString(e.PersonId);
                writer.WriteMap(e.Metadata);
                writer.WriteInt64(e.CreatedTicks);
                break;
            case MoveFacesEntry e:
                writer.WriteString(e.Collection);
                writer.WriteString(e.ToPerson);
                writer.WriteInt64(e.CreatedTicks);
                writer.WriteVarUInt((ulong)e.FaceIds.Length);
                foreach (var faceId in e.FaceIds)
                {
                    writer.WriteInt64(faceId);
                }

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
            EntryKind.DeletePerson => DecodeDeletePerson(ref reader),
            EntryKind.SetPersonMetadata => new SetPersonMetadataEntry(reader.ReadString(), reader.ReadString(), reader.ReadMap(), reader.ReadInt64()),
            EntryKind.MoveFaces => DecodeMoveFaces(ref reader),
            EntryKind.PutBlob => new PutBlobEntry(reader.ReadString(), reader.ReadBytes()),
            EntryKind.DeleteBlob => new DeleteBlobEntry(reader.ReadString()),
            _ => throw new InvalidDataException($"Unknown log entry kind {(byte)kind}."),
        };
        reader.ExpectEnd();
        return entry;
    }

    private static DeletePersonEntry DecodeDeletePerson(ref ByteReader reader)
    {
        var collection = reader.ReadString();
        var personId = reader.ReadString();
        if (reader.AtEnd)
        {
            return new DeletePersonEntry(collection, personId, null);
        }

        var faceIds = new long[reader.ReadLength()];
        for (int i = 0; i < faceIds.Length; i++)
        {
            faceIds[i] = reader.ReadInt64();
        }

        return new DeletePersonEntry(collection, personId, faceIds);
    }

    private static MoveFacesEntry DecodeMoveFaces(ref ByteReader reader)
    {
        var collection = reader.ReadString();
        var toPerson = reader.ReadString();
        var created = reader.ReadInt64();
        var count = reader.ReadVarUInt();
        if (count > int.MaxValue / sizeof(long))
        {
            throw new InvalidDataException($"A move of {count} faces is not a valid entry.");
        }

        var faceIds = new long[count];
        for (int i = 0; i < faceIds.Length; i++)
        {
            faceIds[i] = reader.ReadInt64();
        }

        return new MoveFacesEntry(collection, faceIds, toPerson, created);
    }

    /// <summary>What an entry changes for search (see <see cref="StoreChange"/>); empty for blobs, metadata and moves of faces between persons (the index holds face ids only).</summary>
    public static IReadOnlyList<StoreChange> ChangesOf(WalEntry entry) => entry switch
    {
        CreateCollectionEntry e => [new CollectionCreated(e.Name, e.ModelVersion, e.CreatedTicks)],
        DeleteCollectionEntry e => [new CollectionDeleted(e.Name)],
        AddFacesEntry e => [new FacesAdded(e.Collection, Array.ConvertAll(e.Faces, f => (f.FaceId, f.Vector)))],
        DeleteFaceEntry e => [new FacesRemoved(e.Collection, [e.FaceId])],
        DeletePersonEntry { FaceIds: { } ids } e => [new FacesRemoved(e.Collection, ids)],
        DeletePersonEntry e => [new PersonRemovedUnresolved(e.Collection, e.PersonId)],
        _ => [],
    };

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
