using FaceIndex.Core;

namespace FaceIndex.Storage;

/// <summary>A face's box in the source image, in pixels: top-left corner, width and height.</summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public readonly record struct BoundingBox(float X, float Y, float Width, float Height);

/// <summary>One face to store: its code and, when it came from an image, where and how surely it was found.</summary>
/// <param name="Vector">The 128-byte face code.</param>
/// <param name="Box">Box in the source image; null for a face given as a vector.</param>
/// <param name="DetectionScore">Detector confidence in [0, 1]; 0 for a face given as a vector.</param>
public sealed record NewFace(FaceVector Vector, BoundingBox? Box, float DetectionScore)
{
    /// <summary>
    /// The face's second code under a fused model (docs/vector-format.md, "Fused model"): compared with the
    /// other faces' second codes to re-rank search candidates; null under a single-code model.
    /// </summary>
    public FaceVector? SecondaryVector { get; init; }
}

/// <summary>A stored face.</summary>
/// <param name="FaceId">Store-assigned id: monotonic, never reused.</param>
/// <param name="Collection">Collection that holds it.</param>
/// <param name="PersonId">Client's person id.</param>
/// <param name="Vector">The 128-byte face code.</param>
/// <param name="ModelVersion">Model version that produced the code.</param>
/// <param name="ContentHash">SHA-256 of the source image; null for a face given as a vector.</param>
/// <param name="Box">Box in the source image; null for a face given as a vector.</param>
/// <param name="DetectionScore">Detector confidence.</param>
/// <param name="CreatedAt">When the store accepted it.</param>
/// <param name="Tags">Client tags of the enrol request.</param>
/// <param name="Sequence">Log sequence number (write-ahead log address) of the write that stored it.</param>
public sealed record FaceRecord(
    long FaceId,
    string Collection,
    string PersonId,
    FaceVector Vector,
    string ModelVersion,
    byte[]? ContentHash,
    BoundingBox? Box,
    float DetectionScore,
    DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, string> Tags,
    long Sequence)
{
    /// <summary>The face's second code under a fused model; null under a single-code model.</summary>
    public FaceVector? SecondaryVector { get; init; }
}

/// <summary>A stored person: its faces and display metadata.</summary>
/// <param name="Collection">Collection that holds it.</param>
/// <param name="PersonId">Client's person id.</param>
/// <param name="FaceIds">Ids of its live faces, in the order they were added.</param>
/// <param name="Metadata">Display metadata (key/value).</param>
/// <param name="CreatedAt">When the person was first stored.</param>
public sealed record PersonRecord(
    string Collection,
    string PersonId,
    IReadOnlyList<long> FaceIds,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset CreatedAt);

/// <summary>A collection (an independent gallery) with its live counts.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="ModelVersion">Model version every face of it must carry.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="FaceCount">Live faces.</param>
/// <param name="PersonCount">Persons.</param>
public sealed record CollectionRecord(string Name, string ModelVersion, DateTimeOffset CreatedAt, long FaceCount, long PersonCount);

/// <summary>Result of one add-faces request.</summary>
/// <param name="Faces">The stored faces (new ones, or the existing ones of a duplicate).</param>
/// <param name="Duplicate">True when the same image was stored before for this person and nothing was written.</param>
public sealed record AddFacesResult(IReadOnlyList<FaceRecord> Faces, bool Duplicate);

/// <summary>One page of persons in person-id order.</summary>
/// <param name="Persons">The persons of this page.</param>
/// <param name="NextPageToken">Token of the next page; null on the last page.</param>
public sealed record PersonPage(IReadOnlyList<PersonRecord> Persons, string? NextPageToken);

/// <summary>Counters of the store.</summary>
/// <param name="Faces">Live faces in all collections.</param>
/// <param name="Persons">Persons in all collections.</param>
/// <param name="Collections">Collections.</param>
/// <param name="LastSequence">Sequence number of the last durable write (0 when none).</param>
/// <param name="LogBytes">Bytes of write-ahead log not yet covered by a checkpoint.</param>
/// <param name="LastCheckpoint">Time of the last completed checkpoint, if any.</param>
public sealed record StoreStats(long Faces, long Persons, long Collections, long LastSequence, long LogBytes, DateTimeOffset? LastCheckpoint);

/// <summary>One item of <see cref="FaceStore.AddFacesBatchAsync"/>; the fields mean what the parameters of <see cref="FaceStore.AddFacesAsync"/> mean.</summary>
/// <param name="Collection">Collection (must exist).</param>
/// <param name="PersonId">Person id (created when absent).</param>
/// <param name="Faces">Faces to store (at least one).</param>
/// <param name="ModelVersion">Model version of the vectors (must be the collection's).</param>
/// <param name="ContentHash">SHA-256 of the source image, or null.</param>
/// <param name="Tags">Tags stored with each face, or null.</param>
public sealed record AddFacesRequest(
    string Collection,
    string PersonId,
    IReadOnlyList<NewFace> Faces,
    string ModelVersion,
    byte[]? ContentHash,
    IReadOnlyDictionary<string, string>? Tags);
