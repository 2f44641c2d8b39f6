using System.Buffers;
using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Storage;

namespace FaceIndex.Engine;

public sealed partial class FaceDatabase
{
    /// <summary>Creates a collection for vectors of <see cref="ModelVersion"/>; false when it exists already.</summary>
    /// <exception cref="FaceIndexException">InvalidArgument: the name is empty or too long.</exception>
    public Task<bool> CreateCollectionAsync(string name, CancellationToken ct = default) => CreateCollectionAsync(name, ModelVersion, ct);

    /// <summary>
    /// Creates a collection for vectors of <paramref name="modelVersion"/> (a registered embedding model); false when
    /// it exists already. Its index is created by the change feed, as for every collection.
    /// </summary>
    /// <exception cref="FaceIndexException">InvalidArgument: the name is empty or too long.</exception>
    public Task<bool> CreateCollectionAsync(string name, string modelVersion, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return _store.CreateCollectionAsync(name, modelVersion, ct);
    }

    /// <summary>Deletes a collection with its persons, faces and index; returns the number of faces deleted, or null when it did not exist.</summary>
    public async Task<long?> DeleteCollectionAsync(string name, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        long faces = _store.CountFaces(name);
        return await _store.DeleteCollectionAsync(name, ct).ConfigureAwait(false) ? faces : null;
    }

    /// <summary>
    /// Stores faces of a person durably; they are searchable when this returns (the feed applied them
    /// before the write completed, whatever happens to <paramref name="ct"/>). The collection must exist and
    /// hold vectors of <paramref name="modelVersion"/>; a <paramref name="contentHash"/> seen before for
    /// the same person and collection returns the stored faces with <see cref="AddFacesResult.Duplicate"/>.
    /// </summary>
    /// <exception cref="FaceIndexException">NotFound, ModelMismatch, InvalidArgument or StorageUnavailable.</exception>
    public async Task<AddFacesResult> AddFacesAsync(
        string collection,
        string personId,
        IReadOnlyList<NewFace> faces,
        string modelVersion,
        byte[]? contentHash,
        IReadOnlyDictionary<string, string>? tags,
        CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return await _store.AddFacesAsync(collection, personId, faces, modelVersion, contentHash, tags, ct).ConfigureAwait(false);
    }

    /// <summary>Several add-faces requests with one durable commit; all-or-nothing for invalid items (see <see cref="FaceStore.AddFacesBatchAsync"/>).</summary>
    public async Task<IReadOnlyList<AddFacesResult>> AddFacesBatchAsync(IReadOnlyList<AddFacesRequest> items, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return await _store.AddFacesBatchAsync(items, ct).ConfigureAwait(false);
    }

    /// <summary>Replaces a person's metadata durably (the person is created without faces when absent).</summary>
    public Task SetPersonMetadataAsync(string collection, string personId, IReadOnlyDictionary<string, string> metadata, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return _store.SetPersonMetadataAsync(collection, personId, metadata, ct);
    }

    /// <summary>
    /// Gives faces of a collection to a person (created when absent), durably: naming a cluster as a person,
    /// or merging one person into another. Search finds the faces under their new person at once (the
    /// index holds face ids; persons are the store's). Returns the ids moved.
    /// </summary>
    public Task<IReadOnlyList<long>> MoveFacesAsync(string collection, IReadOnlyList<long> faceIds, string toPersonId, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return _store.MoveFacesAsync(collection, faceIds, toPersonId, ct);
    }

    /// <summary>Renames a person (faces, metadata and creation time move to the new id, which must be free), durably.</summary>
    public Task RenamePersonAsync(string collection, string personId, string newPersonId, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return _store.RenamePersonAsync(collection, personId, newPersonId, ct);
    }

    /// <summary>Deletes a face durably and removes it from search; returns it, or null when the collection holds no such face.</summary>
    public async Task<FaceRecord?> DeleteFaceAsync(string collection, long faceId, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return await _store.DeleteFaceAsync(collection, faceId, ct).ConfigureAwait(false);
    }

    /// <summary>Deletes a person and all their faces durably; returns the deleted face ids, or null when no such person exists.</summary>
    public async Task<IReadOnlyList<long>?> DeletePersonAsync(string collection, string personId, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return await _store.DeletePersonAsync(collection, personId, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The up to <c>results.Length</c> nearest faces of a collection to <paramref name="query"/> that the
    /// store holds, best first (scores are int8 dot products: see <see cref="Similarity"/>): as many as
    /// asked whenever the collection holds that many. <paramref name="ef"/> is the graph search breadth
    /// (0 = <see cref="IndexOptions.EfSearch"/>); small collections are scanned exactly.
    /// </summary>
    /// <remarks>
    /// The index may still hold a face that the store has deleted (its removal from the index follows
    /// the store's commit): such faces are dropped before counting, and the index is asked again for
    /// twice as many until enough remain or it has no more. Allocates nothing unless that happens
    /// (then a pooled buffer).
    /// </remarks>
    /// <exception cref="FaceIndexException">NotFound: no such collection.</exception>
    public int Search(string collection, in FaceVector query, Span<Neighbor> results, int ef = 0)
    {
        if (collection is null || !_indexes.TryGetValue(collection, out var index))
        {
            throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{collection}' does not exist.");
        }

        int k = results.Length;
        int breadth = ef > 0 ? ef : _indexOptions.EfSearch;
        int found = index.Search(query, results, breadth, _indexing.ExactSearchBelow);
        int stored = KeepStored(collection, results[..found]);
        if (stored == k || found < k)
        {
            return stored;
        }

        // Some of the k were deleted from the store: over-fetch until k stored ones remain or the index runs out.
        int request = k;
        while (found == request && stored < k && request < int.MaxValue / 4)
        {
            request *= 2;
            var rented = ArrayPool<Neighbor>.Shared.Rent(request);
            try
            {
                var wider = rented.AsSpan(0, request);
                found = index.Search(query, wider, Math.Max(breadth, request), _indexing.ExactSearchBelow);
                stored = KeepStored(collection, wider[..found]);
                wider[..Math.Min(stored, k)].CopyTo(results);
            }
            finally
            {
                ArrayPool<Neighbor>.Shared.Return(rented);
            }
        }

        return Math.Min(stored, k);
    }

    /// <summary>Moves the neighbours the store still holds in <paramref name="collection"/> to the front, in order; returns their number.</summary>
    private int KeepStored(string collection, Span<Neighbor> neighbors)
    {
        int kept = 0;
        for (int i = 0; i < neighbors.Length; i++)
        {
            if (_store.TryGetFacePerson(collection, neighbors[i].Id, out _))
            {
                neighbors[kept++] = neighbors[i];
            }
        }

        return kept;
    }

    /// <summary>The code of a searchable face of a collection (from the index, no store read); false when the collection's index does not hold it.</summary>
    public bool TryGetIndexedVector(string collection, long faceId, out FaceVector vector)
    {
        if (collection is not null && _indexes.TryGetValue(collection, out var index))
        {
            return index.TryGetVector(faceId, out vector);
        }

        vector = default;
        return false;
    }
}
