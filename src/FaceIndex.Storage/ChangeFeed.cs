using FaceIndex.Core;

namespace FaceIndex.Storage;

/// <summary>
/// What one committed log entry changes for search: the store's change feed carries these, in log
/// order, so that an index (or a replica's index) applies exactly what the store committed.
/// </summary>
public abstract record StoreChange;

/// <summary>A collection was created; <paramref name="CreatedTicks"/> tells its incarnations apart (a name can be deleted and created again).</summary>
public sealed record CollectionCreated(string Name, string ModelVersion, long CreatedTicks) : StoreChange;

/// <summary>A collection was deleted with everything in it.</summary>
public sealed record CollectionDeleted(string Name) : StoreChange;

/// <summary>Faces were stored (ids assigned by the store, never reused).</summary>
public sealed record FacesAdded(string Collection, IReadOnlyList<(long FaceId, FaceVector Vector)> Faces) : StoreChange;

/// <summary>Faces were deleted (one face, or every face of a deleted person).</summary>
public sealed record FacesRemoved(string Collection, IReadOnlyList<long> FaceIds) : StoreChange;

/// <summary>
/// A person was deleted by an entry written before person deletes recorded their face ids (an older
/// store): which faces went can only be told from the store's state. Appliers that meet one reconcile
/// with the store instead of replaying.
/// </summary>
public sealed record PersonRemovedUnresolved(string Collection, string PersonId) : StoreChange;

/// <summary>One committed entry of the write-ahead log, as the change feed hands it on.</summary>
/// <param name="Position">The entry's address in this store's log (increasing in log order).</param>
/// <param name="NextPosition">The address after the entry: where the feed continues.</param>
/// <param name="Entry">The encoded, resolved entry (ids assigned, times fixed): opaque bytes that another store applies with <see cref="FaceStore.AppendReplicatedAsync"/>.</param>
/// <param name="Changes">What the entry changes for search (empty for blobs and metadata).</param>
public sealed record ChangeRecord(long Position, long NextPosition, ReadOnlyMemory<byte> Entry, IReadOnlyList<StoreChange> Changes);

/// <summary>A range of the feed read back from the log.</summary>
/// <param name="Records">The committed entries from the asked position, in log order.</param>
/// <param name="NextPosition">Where to continue reading.</param>
/// <param name="Truncated">True when the log no longer holds the asked position (it was truncated behind a checkpoint): the reader needs a full copy.</param>
public sealed record FeedRead(IReadOnlyList<ChangeRecord> Records, long NextPosition, bool Truncated);
