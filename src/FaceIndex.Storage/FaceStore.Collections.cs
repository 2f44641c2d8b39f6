using System.Diagnostics.CodeAnalysis;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>Creates a collection whose faces carry <paramref name="modelVersion"/>.</summary>
    /// <returns>False when a collection of that name exists already (whatever its model version).</returns>
    public Task<bool> CreateCollectionAsync(string name, string modelVersion, CancellationToken ct = default)
    {
        Validation.Name(name, "collection name", MaxCollectionNameBytes);
        Validation.Name(modelVersion, "model version", Validation.MaxModelVersionBytes);
        return Submit(store =>
        {
            if (store._collections.ContainsKey(name))
            {
                return false;
            }

            store.Append(new CreateCollectionEntry(name, modelVersion, DateTimeOffset.UtcNow.UtcTicks));
            return true;
        }, ct);
    }

    /// <summary>Deletes a collection with all its persons and faces.</summary>
    /// <returns>False when no such collection exists.</returns>
    public Task<bool> DeleteCollectionAsync(string name, CancellationToken ct = default)
    {
        Validation.Name(name, "collection name", MaxCollectionNameBytes);
        return Submit(store =>
        {
            if (!store._collections.ContainsKey(name))
            {
                return false;
            }

            store.Append(new DeleteCollectionEntry(name));
            return true;
        }, ct);
    }

    /// <summary>Looks a collection up, with its live counts.</summary>
    public bool TryGetCollection(string name, [NotNullWhen(true)] out CollectionRecord? collection)
    {
        if (name is not null && _collections.TryGetValue(name, out var state))
        {
            collection = state.ToRecord();
            return true;
        }

        collection = null;
        return false;
    }

    /// <summary>True when the collection exists.</summary>
    public bool ContainsCollection(string name) => name is not null && _collections.ContainsKey(name);

    /// <summary>Every collection, in ordinal name order.</summary>
    public IReadOnlyList<CollectionRecord> ListCollections()
    {
        var list = new List<CollectionRecord>(_collections.Count);
        foreach (var state in _collections.Values)
        {
            list.Add(state.ToRecord());
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>Number of live faces of a collection (0 when it does not exist).</summary>
    public long CountFaces(string collection)
    {
        if (collection is not null && _collections.TryGetValue(collection, out var state))
        {
            lock (state.Gate)
            {
                return state.Faces.Count;
            }
        }

        return 0;
    }

    /// <summary>The collection's state, or <see cref="FaceIndexError.NotFound"/>. Writer thread.</summary>
    private CollectionState RequireCollection(string name) =>
        _collections.TryGetValue(name, out var state)
            ? state
            : throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{name}' does not exist.");
}
