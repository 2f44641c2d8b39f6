using FaceIndex.Core;

namespace FaceIndex.Storage.Internal;

/// <summary>Kind byte of a write-ahead-log entry (docs/store-format.md). Values are stable on disk.</summary>
internal enum EntryKind : byte
{
    CreateCollection = 1,
    DeleteCollection = 2,
    AddFaces = 3,
    DeleteFace = 4,
    DeletePerson = 5,
    SetPersonMetadata = 6,
    PutBlob = 7,
    DeleteBlob = 8,
    MoveFaces = 9,
}

/// <summary>
/// One mutation, fully resolved by the writer (ids assigned, times fixed) so that applying it is
/// deterministic, and idempotent given the state: replaying an entry that a checkpoint already
/// reflects changes nothing.
/// </summary>
internal abstract record WalEntry
{
    public abstract EntryKind Kind { get; }
}

internal sealed record CreateCollectionEntry(string Name, string ModelVersion, long CreatedTicks) : WalEntry
{
    public override EntryKind Kind => EntryKind.CreateCollection;
}

internal sealed record DeleteCollectionEntry(string Name) : WalEntry
{
    public override EntryKind Kind => EntryKind.DeleteCollection;
}

/// <summary>A face of an <see cref="AddFacesEntry"/> with its assigned id.</summary>
internal readonly record struct StoredFace(long FaceId, FaceVector Vector, BoundingBox? Box, float DetectionScore, FaceVector? Secondary = null);

internal sealed record AddFacesEntry(
    string Collection,
    string PersonId,
    string ModelVersion,
    byte[]? ContentHash,
    IReadOnlyDictionary<string, string> Tags,
    long CreatedTicks,
    StoredFace[] Faces) : WalEntry
{
    public override EntryKind Kind => EntryKind.AddFaces;
}

internal sealed record DeleteFaceEntry(string Collection, long FaceId) : WalEntry
{
    public override EntryKind Kind => EntryKind.DeleteFace;
}

/// <summary>Deletes a person; <paramref name="FaceIds"/> are the faces it had (null in entries of older stores, which did not record them).</summary>
internal sealed record DeletePersonEntry(string Collection, string PersonId, long[]? FaceIds) : WalEntry
{
    public override EntryKind Kind => EntryKind.DeletePerson;
}

internal sealed record SetPersonMetadataEntry(string Collection, string PersonId, IReadOnlyDictionary<string, string> Metadata, long CreatedTicks) : WalEntry
{
    public override EntryKind Kind => EntryKind.SetPersonMetadata;
}

/// <summary>
/// Gives faces of a collection to <paramref name="ToPerson"/> (created, with <paramref name="CreatedTicks"/>, when
/// absent): their records, their persons' face lists and their content-hash keys move; their vectors and ids stay.
/// </summary>
internal sealed record MoveFacesEntry(string Collection, long[] FaceIds, string ToPerson, long CreatedTicks) : WalEntry
{
    public override EntryKind Kind => EntryKind.MoveFaces;
}

internal sealed record PutBlobEntry(string Key, byte[] Value) : WalEntry
{
    public override EntryKind Kind => EntryKind.PutBlob;
}

internal sealed record DeleteBlobEntry(string Key) : WalEntry
{
    public override EntryKind Kind => EntryKind.DeleteBlob;
}
