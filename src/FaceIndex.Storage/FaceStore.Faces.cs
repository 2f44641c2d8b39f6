using System.Diagnostics.CodeAnalysis;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>
    /// Stores faces of a person: the collection must exist (else <see cref="FaceIndexError.NotFound"/>) with the
    /// same model version (else <see cref="FaceIndexError.ModelMismatch"/>); the person is created when absent;
    /// each face gets a new id. When <paramref name="contentHash"/> was stored before for this collection and
    /// person, the existing faces come back with <see cref="AddFacesResult.Duplicate"/> set and nothing is written.
    /// </summary>
    public async Task<AddFacesResult> AddFacesAsync(
        string collection,
        string personId,
        IReadOnlyList<NewFace> faces,
        string modelVersion,
        byte[]? contentHash,
        IReadOnlyDictionary<string, string>? tags,
        CancellationToken ct = default)
    {
        var results = await AddFacesBatchAsync([new AddFacesRequest(collection, personId, faces, modelVersion, contentHash, tags)], ct).ConfigureAwait(false);
        return results[0];
    }

    /// <summary>
    /// Stores several add-faces requests with one durable commit; results in request order. The batch is
    /// all-or-nothing for invalid items: if any item names a missing collection or is otherwise invalid,
    /// the call throws for the first such item and nothing is written.
    /// </summary>
    public Task<IReadOnlyList<AddFacesResult>> AddFacesBatchAsync(IReadOnlyList<AddFacesRequest> items, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            ArgumentNullException.ThrowIfNull(item);
            Validation.Name(item.Collection, "collection name", MaxCollectionNameBytes);
            Validation.Name(item.PersonId, "person id", MaxPersonIdBytes);
            Validation.Name(item.ModelVersion, "model version", Validation.MaxModelVersionBytes);
            Validation.Faces(item.Faces, _options.MaxFacesPerRequest);
            Validation.ContentHash(item.ContentHash);
            Validation.Map(item.Tags, "tag");
        }

        var frozen = items.Select(i => i with { Faces = [.. i.Faces], ContentHash = i.ContentHash?.ToArray() }).ToArray();
        return Submit<IReadOnlyList<AddFacesResult>>(store => store.RunAddFaces(frozen), ct);
    }

    /// <summary>Reads a face by id.</summary>
    public bool TryGetFace(long faceId, [NotNullWhen(true)] out FaceRecord? face)
    {
        face = _kv.Read(Keys.ForFace(faceId)) is { } value ? KvCodec.ReadFace(value) : null;
        return face is not null;
    }

    /// <summary>
    /// The faces stored from the image with SHA-256 <paramref name="contentHash"/> for this person and collection,
    /// or null when none are: lets a caller skip the work of analysing an image it enrolled before.
    /// </summary>
    public IReadOnlyList<FaceRecord>? FindByContentHash(string collection, string personId, ReadOnlySpan<byte> contentHash)
    {
        if (contentHash.Length != 32 || !Validation.IsValidName(collection, MaxCollectionNameBytes) || !Validation.IsValidName(personId, MaxPersonIdBytes)
            || _kv.Read(Keys.ForContentHash(collection, personId, contentHash)) is not { } idsValue)
        {
            return null;
        }

        var faces = new List<FaceRecord>();
        foreach (var id in KvCodec.ReadFaceIds(idsValue))
        {
            if (TryGetFace(id, out var face))
            {
                faces.Add(face);
            }
        }

        return faces.Count > 0 ? faces : null;
    }

    /// <summary>
    /// The person of a live face of a collection, from memory (no store read): for turning search
    /// results into persons. False when the collection holds no such face (deleted, or another collection's).
    /// </summary>
    public bool TryGetFacePerson(string collection, long faceId, [NotNullWhen(true)] out string? personId)
    {
        personId = null;
        return _collections.TryGetValue(collection, out var state) && state.TryGetPerson(faceId, out personId);
    }

    /// <summary>Deletes a face of a collection; returns it, or null when the collection holds no such face.</summary>
    public Task<FaceRecord?> DeleteFaceAsync(string collection, long faceId, CancellationToken ct = default)
    {
        Validation.Name(collection, "collection name", MaxCollectionNameBytes);
        return Submit(store =>
        {
            if (!store._collections.TryGetValue(collection, out var state) || !state.ContainsFace(faceId)
                || store._kv.WriterRead(Keys.ForFace(faceId)) is not { } value)
            {
                return null;
            }

            var face = KvCodec.ReadFace(value);
            store.Append(new DeleteFaceEntry(collection, faceId));
            return face;
        }, ct);
    }

    /// <summary>The ids of a collection's live faces in ascending order (empty when the collection does not exist).</summary>
    public long[] GetFaceIds(string collection)
    {
        if (collection is null || !_collections.TryGetValue(collection, out var state))
        {
            return [];
        }

        long[] ids;
        lock (state.Gate)
        {
            ids = [.. state.Faces.Keys];
        }

        Array.Sort(ids);
        return ids;
    }

    /// <summary>
    /// Every live face of a collection in face-id (insertion) order, read lazily one record at a time from a
    /// snapshot of the ids taken at the first step; faces deleted meanwhile are skipped. Empty when the
    /// collection does not exist.
    /// </summary>
    public IEnumerable<FaceRecord> EnumerateFaces(string collection)
    {
        foreach (var id in GetFaceIds(collection))
        {
            if (_kv.Read(Keys.ForFace(id)) is { } value)
            {
                var face = KvCodec.ReadFace(value);
                if (face.Collection == collection)
                {
                    yield return face;
                }
            }
        }
    }

    private List<AddFacesResult> RunAddFaces(AddFacesRequest[] items)
    {
        foreach (var item in items)
        {
            var state = RequireCollection(item.Collection);
            if (!string.Equals(state.ModelVersion, item.ModelVersion, StringComparison.Ordinal))
            {
                throw new FaceIndexException(
                    FaceIndexError.ModelMismatch,
                    $"Collection '{item.Collection}' holds vectors of model '{state.ModelVersion}'; these are of '{item.ModelVersion}'.");
            }
        }

        var results = new List<AddFacesResult>(items.Length);
        foreach (var item in items)
        {
            results.Add(AddOne(item));
        }

        return results;
    }

    private AddFacesResult AddOne(AddFacesRequest item)
    {
        if (item.ContentHash is { } hash
            && _kv.WriterRead(Keys.ForContentHash(item.Collection, item.PersonId, hash)) is { } idsValue)
        {
            var existing = new List<FaceRecord>();
            foreach (var id in KvCodec.ReadFaceIds(idsValue))
            {
                if (_kv.WriterRead(Keys.ForFace(id)) is { } faceValue)
                {
                    existing.Add(KvCodec.ReadFace(faceValue));
                }
            }

            if (existing.Count > 0)
            {
                return new AddFacesResult(existing, Duplicate: true);
            }
        }

        var stored = new StoredFace[item.Faces.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var face = item.Faces[i];
            stored[i] = new StoredFace(_nextFaceId++, face.Vector, face.Box, face.DetectionScore, face.SecondaryVector);
        }

        var tags = item.Tags is { Count: > 0 } t ? new Dictionary<string, string>(t, StringComparer.Ordinal).AsReadOnly() : EmptyMap.Instance;
        var entry = new AddFacesEntry(item.Collection, item.PersonId, item.ModelVersion, item.ContentHash, tags, DateTimeOffset.UtcNow.UtcTicks, stored);
        var sequence = Append(entry);
        var created = new DateTimeOffset(entry.CreatedTicks, TimeSpan.Zero);
        var records = new FaceRecord[stored.Length];
        for (var i = 0; i < stored.Length; i++)
        {
            var face = stored[i];
            records[i] = new FaceRecord(face.FaceId, item.Collection, item.PersonId, face.Vector, item.ModelVersion, item.ContentHash, face.Box, face.DetectionScore, created, tags, sequence)
            {
                SecondaryVector = face.Secondary,
            };
        }

        return new AddFacesResult(records, Duplicate: false);
    }
}
