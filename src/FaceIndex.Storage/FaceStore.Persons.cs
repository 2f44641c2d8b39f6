using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>Largest page of <see cref="ListPersons"/>.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Reads a person with its live face ids and metadata.</summary>
    public bool TryGetPerson(string collection, string personId, [NotNullWhen(true)] out PersonRecord? person)
    {
        person = null;
        if (!Validation.IsValidName(collection, MaxCollectionNameBytes) || !Validation.IsValidName(personId, MaxPersonIdBytes)
            || _kv.Read(Keys.ForPerson(collection, personId)) is not { } value)
        {
            return false;
        }

        person = ToRecord(collection, personId, KvCodec.ReadPerson(value));
        return true;
    }

    /// <summary>
    /// One page of a collection's persons in ordinal person-id order. <paramref name="pageToken"/> is null for the
    /// first page and <see cref="PersonPage.NextPageToken"/> of the previous page after; the order is stable
    /// under concurrent writes (a page resumes after the last id of the previous one).
    /// </summary>
    /// <exception cref="FaceIndexException">NotFound: no such collection; InvalidArgument: page size outside 1–1000 or a malformed token.</exception>
    public PersonPage ListPersons(string collection, int pageSize, string? pageToken)
    {
        if (collection is null || !_collections.TryGetValue(collection, out var state))
        {
            throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{collection}' does not exist.");
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"The page size must be between 1 and {MaxPageSize}; got {pageSize}.");
        }

        var after = string.IsNullOrEmpty(pageToken) ? null : DecodePageToken(pageToken);
        var ids = new List<string>(pageSize + 1);
        lock (state.Gate)
        {
            IEnumerable<string> view = state.Persons;
            if (after is not null)
            {
                view = state.Persons.Count == 0 || string.CompareOrdinal(after, state.Persons.Max) >= 0
                    ? []
                    : state.Persons.GetViewBetween(after, state.Persons.Max!);
            }

            foreach (var id in view)
            {
                if (after is not null && string.Equals(id, after, StringComparison.Ordinal))
                {
                    continue;
                }

                ids.Add(id);
                if (ids.Count > pageSize)
                {
                    break;
                }
            }
        }

        var more = ids.Count > pageSize;
        if (more)
        {
            ids.RemoveAt(pageSize);
        }

        var persons = new List<PersonRecord>(ids.Count);
        foreach (var id in ids)
        {
            if (_kv.Read(Keys.ForPerson(collection, id)) is { } value)
            {
                persons.Add(ToRecord(collection, id, KvCodec.ReadPerson(value)));
            }
        }

        return new PersonPage(persons, more ? EncodePageToken(ids[^1]) : null);
    }

    /// <summary>Replaces a person's metadata, creating the person (without faces) when absent; the collection must exist.</summary>
    public Task SetPersonMetadataAsync(string collection, string personId, IReadOnlyDictionary<string, string> metadata, CancellationToken ct = default)
    {
        Validation.Name(collection, "collection name", MaxCollectionNameBytes);
        Validation.Name(personId, "person id", MaxPersonIdBytes);
        ArgumentNullException.ThrowIfNull(metadata);
        Validation.Map(metadata, "metadata");
        var copy = new Dictionary<string, string>(metadata, StringComparer.Ordinal).AsReadOnly();
        return Submit(store =>
        {
            store.RequireCollection(collection);
            return store.Append(new SetPersonMetadataEntry(collection, personId, copy, DateTimeOffset.UtcNow.UtcTicks));
        }, ct);
    }

    /// <summary>Deletes a person with all its faces; returns the deleted face ids, or null when there is no such person.</summary>
    public Task<IReadOnlyList<long>?> DeletePersonAsync(string collection, string personId, CancellationToken ct = default)
    {
        Validation.Name(collection, "collection name", MaxCollectionNameBytes);
        Validation.Name(personId, "person id", MaxPersonIdBytes);
        return Submit<IReadOnlyList<long>?>(store =>
        {
            if (!store._collections.ContainsKey(collection) || store.ReadPersonState(Keys.ForPerson(collection, personId)) is not { } person)
            {
                return null;
            }

            var faceIds = person.FaceIds.ToArray();
            store.Append(new DeletePersonEntry(collection, personId, faceIds));
            return faceIds;
        }, ct);
    }

    /// <summary>
    /// Gives faces of the collection to <paramref name="toPersonId"/>, created when absent ("name this cluster as
    /// that person"); the persons they leave keep their other faces and their metadata, even when left with
    /// none. Returns the ids moved (a face that belongs to the person already is left as it is). The
    /// collection and every face must exist in it (else <see cref="FaceIndexError.NotFound"/>, nothing moved).
    /// </summary>
    public Task<IReadOnlyList<long>> MoveFacesAsync(string collection, IReadOnlyList<long> faceIds, string toPersonId, CancellationToken ct = default)
    {
        Validation.Name(collection, "collection name", MaxCollectionNameBytes);
        Validation.Name(toPersonId, "person id", MaxPersonIdBytes);
        ArgumentNullException.ThrowIfNull(faceIds);
        if (faceIds.Count == 0 || faceIds.Count > _options.MaxFacesPerRequest)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"A move takes 1 to {_options.MaxFacesPerRequest} face ids (Storage:MaxFacesPerRequest); got {faceIds.Count}.");
        }

        var ids = faceIds.Distinct().ToArray();
        return Submit<IReadOnlyList<long>>(store =>
        {
            var state = store.RequireCollection(collection);
            var moved = new List<long>(ids.Length);
            foreach (var faceId in ids)
            {
                string? owner;
                lock (state.Gate)
                {
                    owner = state.Faces.GetValueOrDefault(faceId);
                }

                if (owner is null)
                {
                    throw new FaceIndexException(FaceIndexError.NotFound, $"Face {faceId} does not exist in collection '{collection}'; no face was moved.");
                }

                if (!string.Equals(owner, toPersonId, StringComparison.Ordinal))
                {
                    moved.Add(faceId);
                }
            }

            if (moved.Count > 0)
            {
                store.Append(new MoveFacesEntry(collection, [.. moved], toPersonId, DateTimeOffset.UtcNow.UtcTicks));
            }

            return moved;
        }, ct);
    }

    /// <summary>
    /// Renames a person: its faces, content hashes, metadata and creation time go to <paramref name="newPersonId"/>,
    /// in one commit. <see cref="FaceIndexError.NotFound"/> when the person does not exist,
    /// <see cref="FaceIndexError.AlreadyExists"/> when the new id names another person (move its faces instead).
    /// </summary>
    public Task RenamePersonAsync(string collection, string personId, string newPersonId, CancellationToken ct = default)
    {
        Validation.Name(collection, "collection name", MaxCollectionNameBytes);
        Validation.Name(personId, "person id", MaxPersonIdBytes);
        Validation.Name(newPersonId, "new person id", MaxPersonIdBytes);
        return Submit(store =>
        {
            store.RequireCollection(collection);
            if (store.ReadPersonState(Keys.ForPerson(collection, personId)) is not { } person)
            {
                throw new FaceIndexException(FaceIndexError.NotFound, $"Person '{personId}' does not exist in collection '{collection}'.");
            }

            if (string.Equals(personId, newPersonId, StringComparison.Ordinal))
            {
                return store._lastSequence;
            }

            if (store.ReadPersonState(Keys.ForPerson(collection, newPersonId)) is not null)
            {
                throw new FaceIndexException(FaceIndexError.AlreadyExists, $"Person '{newPersonId}' already exists in collection '{collection}'; to merge two persons, assign the faces of one to the other (AssignFaces).");
            }

            if (person.FaceIds.Count > 0)
            {
                store.Append(new MoveFacesEntry(collection, [.. person.FaceIds], newPersonId, person.CreatedTicks));
            }

            store.Append(new SetPersonMetadataEntry(collection, newPersonId, person.Metadata, person.CreatedTicks));
            return store.Append(new DeletePersonEntry(collection, personId, []));
        }, ct);
    }

    private static PersonRecord ToRecord(string collection, string personId, PersonState person) =>
        new(collection, personId, person.FaceIds.AsReadOnly(), person.Metadata, new DateTimeOffset(person.CreatedTicks, TimeSpan.Zero));

    private static string EncodePageToken(string lastId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastId));

    private static string DecodePageToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, "The page token is malformed; pass the NextPageToken of the previous page.");
        }
    }
}
