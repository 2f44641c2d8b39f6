namespace FaceIndex.Storage.Internal;

/// <summary>
/// What a key-value checkpoint records beside FASTER's own metadata (its commit cookie): the
/// write-ahead-log address up to which every entry is reflected in the checkpoint, the next face id
/// to assign, the sequence number of the last entry it reflects and when it was taken. Format: version
/// byte 1, then four int64.
/// </summary>
internal sealed record CheckpointCookie(long WalAddress, long NextFaceId, long LastSequence, DateTimeOffset TakenAt)
{
    private const byte Version = 1;

    public byte[] Encode()
    {
        var writer = new ByteWriter(32);
        writer.WriteByte(Version);
        writer.WriteInt64(WalAddress);
        writer.WriteInt64(NextFaceId);
        writer.WriteInt64(LastSequence);
        writer.WriteInt64(TakenAt.UtcTicks);
        return writer.ToArray();
    }

    public static CheckpointCookie Decode(byte[] bytes)
    {
        var reader = new ByteReader(bytes);
        var version = reader.ReadByte();
        if (version != Version)
        {
            throw new InvalidDataException($"Unknown checkpoint cookie version {version}.");
        }

        var cookie = new CheckpointCookie(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero));
        reader.ExpectEnd();
        return cookie;
    }
}
