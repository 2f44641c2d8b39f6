using FaceIndex.Core;
using FaceIndex.Engine.Internal;
using FaceIndex.Index;
using FaceIndex.Storage;

namespace FaceIndex.Engine;

public sealed partial class FaceDatabase
{
    /// <summary>Creates a collection for vectors of <see cref="ModelVersion"/>; false when it exists already.</summary>
    /// <exception cref="FaceIndexException">InvalidArgument: the name is empty or too long.</exception>
    public async Task<bool> CreateCollectionAsync(string name, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        bool created = await _store.CreateCollectionAsync(name, ModelVersion, ct).ConfigureAwait(false);
        if (created)
        {
            EnsureIndex(name);
        }

        return created;
    }

    /// <summary>Deletes a collection with its persons, faces and index; returns the number of faces deleted, or null when it did not exist.</summary>
    public async Task<long?> DeleteCollectionAsync(string name, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        long faces = _store.CountFaces(name);
        if (!await _store.DeleteCollectionAsync(name, ct).ConfigureAwait(false))
        {
            return null;
        }

        // Searches in flight may still read the removed index: it is left to the collector, not disposed.
        _indexes.TryRemove(name, out _);
        DeleteSnapshot(name);
        return faces;
    }

    /// <summary>
    /// Stores faces of a person durably, then makes them searchable. The collection must exist and
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

        // Not cancelled once submitted: an acknowledged write must reach the index.
        var result = await _store.AddFacesAsync(collection, personId, faces, modelVersion, contentHash, tags, ct).ConfigureAwait(false);
        if (!result.Duplicate)
        {
            Index(collection, result.Faces);
        }

        return result;
    }

    /// <summary>Several add-faces requests with one durable commit; all-or-nothing for invalid items (see <see cref="FaceStore.AddFacesBatchAsync"/>).</summary>
    public async Task<IReadOnlyList<AddFacesResult>> AddFacesBatchAsync(IReadOnlyList<AddFacesRequest> items, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var results = await _store.AddFacesBatchAsync(items, ct).ConfigureAwait(false);
        for (int i = 0; i < results.Count; i++)
        {
            if (!results[i].Duplicate)
            {
                Index(items[i].Collection, results[i].Faces);
            }
        }

        return results;
    }

    /// <summary>Deletes a face durably and removes it from search; returns it, or null when the collection holds no such face.</summary>
    public async Task<FaceRecord?> DeleteFaceAsync(string collection, long faceId, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var face = await _store.DeleteFaceAsync(collection, faceId, ct).ConfigureAwait(false);
        if (face is not null && _indexes.TryGetValue(collection, out var index))
        {
            index.Remove(faceId);
        }

        return face;
    }

    /// <summary>Deletes a person and all their faces durably; returns the deleted face ids, or null when no such person exists.</summary>
    public async Task<IReadOnlyList<long>?> DeletePersonAsync(string collection, string personId, CancellationToken ct = default)
    {
        ThrowIfDisposed();
        var deleted = await _store.DeletePersonAsync(collection, personId, ct).ConfigureAwait(false);
        if (deleted is not null && _indexes.TryGetValue(collection, out var index))
        {
            foreach (long faceId in deleted)
            {
                index.Remove(faceId);
            }
        }

        return deleted;
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

    private void Index(string collection, IReadOnlyList<FaceRecord> faces)
    {
        var index = EnsureIndex(collection);
        foreach (var face in faces)
        {
            index.Add(face.FaceId, face.Vector);

            // A delete of this face or its person that committed with this write (or just after it)
            // may have run its index removal before this insert: the store, which applied both in
            // order, decides. Either the delete's removal follows this insert, or this check sees it.
            if (!_store.TryGetFacePerson(collection, face.FaceId, out _))
            {
                index.Remove(face.FaceId);
            }
        }

        Interlocked.Add(ref _acknowledgedFaces, faces.Count);

        // A delete of the collection that raced with this write: whichever ran last drops the index.
        if (!_store.ContainsCollection(collection) && _indexes.TryRemove(new KeyValuePair<string, CollectionIndex>(collection, index)))
        {
            return;
        }

        RequestBuild();
    }

    private CollectionIndex EnsureIndex(string collection) =>
        _indexes.GetOrAdd(collection, static (name, options) => new CollectionIndex(name, new HnswIndex(options)), _indexOptions);
}
