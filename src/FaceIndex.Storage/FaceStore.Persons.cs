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
