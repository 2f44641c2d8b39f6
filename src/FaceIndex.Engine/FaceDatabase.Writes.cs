using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Storage;

namespace FaceIndex.Engine;

public sealed partial class FaceDatabase
{
    /// <summary>Creates a collection for vectors of <see cref="ModelVersion"/>; false when it exists already.</summary>
    /// <exception cref="FaceIndexException">InvalidArgument: the name is empty or too long.</exception>
    public Task<bool> CreateCollectionAsync(string name, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        return _store.CreateCollectionAsync(name, ModelVersion, ct);
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
    /// The up to <c>results.Length</c> nearest faces of a collection to <paramref name="query"/>, best first
    /// (scores are int8 dot products: see <see cref="Similarity"/>). <paramref name="ef"/> is the graph search
    /// breadth (0 = <see cref="IndexOptions.EfSearch"/>); small collections are scanned exactly.
    /// </summary>
    /// <exception cref="FaceIndexException">NotFound: no such collection.</exception>
    public int Search(string collection, in FaceVector query, Span<Neighbor> results, int ef = 0)
    {
        if (collection is null || !_indexes.TryGetValue(collection, out var index))
        {
            throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{collection}' does not exist.");
        }

        return index.Search(query, results, ef > 0 ? ef : _indexOptions.EfSearch, _indexing.ExactSearchBelow);
    }
}
