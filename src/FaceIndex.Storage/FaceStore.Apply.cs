using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    private readonly ByteWriter _valueWriter = new(1024);

    /// <summary>
    /// Applies one resolved entry to the key-value store and the in-memory directory. Writer thread
    /// (or recovery) only. Idempotent given the state: what already holds is left as it is, so that
    /// replaying entries a checkpoint already reflects changes nothing.
    /// </summary>
    private void Apply(WalEntry entry, long address)
    {
        switch (entry)
        {
            case CreateCollectionEntry e:
                if (!_collections.ContainsKey(e.Name))
                {
                    KvCodec.WriteCollection(_valueWriter, e.ModelVersion, e.CreatedTicks);
                    _kv.Upsert(Keys.ForCollection(e.Name), _valueWriter.WrittenSpan);
                    _collections[e.Name] = new CollectionState(e.Name, e.ModelVersion, new DateTimeOffset(e.CreatedTicks, TimeSpan.Zero));
                }

                break;
            case DeleteCollectionEntry e:
                ApplyDeleteCollection(e.Name);
                break;
            case AddFacesEntry e:
                ApplyAddFaces(e, address);
                break;
            case DeleteFaceEntry e:
                ApplyDeleteFace(e.Collection, e.FaceId);
                break;
            case DeletePersonEntry e:
                ApplyDeletePerson(e.Collection, e.PersonId);
                break;
            case SetPersonMetadataEntry e:
                ApplySetMetadata(e);
                break;
            case MoveFacesEntry e:
                ApplyMoveFaces(e);
                break;
            case PutBlobEntry e:
                KvCodec.WriteBlob(_valueWriter, e.Value);
                _kv.Upsert(Keys.ForBlob(e.Key), _valueWriter.WrittenSpan);
                lock (_blobGate)
                {
                    _blobKeys.Add(e.Key);
                }

                break;
            case DeleteBlobEntry e:
                _kv.Delete(Keys.ForBlob(e.Key));
                lock (_blobGate)
                {
                    _blobKeys.Remove(e.Key);
                }

                break;
            default:
                throw new InvalidOperationException("Unknown entry " + entry.GetType().Name);
        }
    }

    private void ApplyAddFaces(AddFacesEntry e, long address)
    {
        if (!_collections.TryGetValue(e.Collection, out var state))
        {
            return;
        }

        var personKey = Keys.ForPerson(e.Collection, e.PersonId);
        var person = ReadPersonState(personKey);
        var isNew = person is null;
        person ??= new PersonState { CreatedTicks = e.CreatedTicks };
        foreach (var face in e.Faces)
        {
            _nextFaceId = Math.Max(_nextFaceId, face.FaceId + 1);
            bool known;
            lock (state.Gate)
            {
                known = state.Faces.ContainsKey(face.FaceId);
            }

            if (known)
            {
                continue;
            }

            KvCodec.WriteFace(_valueWriter, e, face, address);
            _kv.Upsert(Keys.ForFace(face.FaceId), _valueWriter.WrittenSpan);
            if (!person.FaceIds.Contains(face.FaceId))
            {
                person.FaceIds.Add(face.FaceId);
            }

            lock (state.Gate)
            {
                state.Faces[face.FaceId] = e.PersonId;
            }
        }

        if (e.ContentHash is { } hash)
        {
            AddToContentHash(e.Collection, e.PersonId, hash, e.Faces.Select(f => f.FaceId), person);
        }

        WritePerson(state, personKey, e.PersonId, person, isNew);
    }

    private void ApplyDeleteFace(string collection, long faceId)
    {
        if (!_collections.TryGetValue(collection, out var state))
        {
            return;
        }

        var faceKey = Keys.ForFace(faceId);
        if (_kv.WriterRead(faceKey) is not { } value)
        {
            return;
        }

        var face = KvCodec.ReadFace(value);
        _kv.Delete(faceKey);
        lock (state.Gate)
        {
            state.Faces.Remove(faceId);
        }

        var personKey = Keys.ForPerson(collection, face.PersonId);
        if (ReadPersonState(personKey) is not { } person)
        {
            return;
        }

        person.FaceIds.Remove(faceId);
        if (face.ContentHash is { } hash)
        {
            DropFromContentHash(collection, face.PersonId, hash, faceId, person);
        }

        WritePerson(state, personKey, face.PersonId, person, isNew: false);
    }

    private void ApplyDeletePerson(string collection, string personId)
    {
        if (!_collections.TryGetValue(collection, out var state))
        {
            return;
        }

        var personKey = Keys.ForPerson(collection, personId);
        if (ReadPersonState(personKey) is not { } person)
        {
            return;
        }

        DeletePersonContent(state, personKey, personId, person);
    }

    private void ApplyDeleteCollection(string name)
    {
        if (!_collections.TryGetValue(name, out var state))
        {
            return;
        }

        string[] persons;
        long[] faces;
        lock (state.Gate)
        {
            persons = [.. state.Persons];
            faces = [.. state.Faces.Keys];
        }

        foreach (var personId in persons)
        {
            var personKey = Keys.ForPerson(name, personId);
            if (ReadPersonState(personKey) is { } person)
            {
                DeletePersonContent(state, personKey, personId, person);
            }
        }

        // Faces without a person record cannot arise from the writer; delete them all the same.
        foreach (var faceId in faces)
        {
            _kv.Delete(Keys.ForFace(faceId));
        }

        _kv.Delete(Keys.ForCollection(name));
        _collections.TryRemove(name, out _);
        lock (state.Gate)
        {
            _personCount -= state.Persons.Count;
            state.Persons.Clear();
            state.Faces.Clear();
        }
    }

    private void ApplySetMetadata(SetPersonMetadataEntry e)
    {
        if (!_collections.TryGetValue(e.Collection, out var state))
        {
            return;
        }

        var personKey = Keys.ForPerson(e.Collection, e.PersonId);
        var person = ReadPersonState(personKey);
        var isNew = person is null;
        person ??= new PersonState { CreatedTicks = e.CreatedTicks };
        person.Metadata = e.Metadata;
        WritePerson(state, personKey, e.PersonId, person, isNew);
    }

    private void ApplyMoveFaces(MoveFacesEntry e)
    {
        if (!_collections.TryGetValue(e.Collection, out var state))
        {
            return;
        }

        var toKey = Keys.ForPerson(e.Collection, e.ToPerson);
        var to = ReadPersonState(toKey);
        bool isNew = to is null;
        to ??= new PersonState { CreatedTicks = e.CreatedTicks };
        var sources = new Dictionary<string, PersonState>(StringComparer.Ordinal);
        foreach (var faceId in e.FaceIds)
        {
            var faceKey = Keys.ForFace(faceId);
            if (_kv.WriterRead(faceKey) is not { } value)
            {
                continue;
            }

            var face = KvCodec.ReadFace(value);
            if (!string.Equals(face.Collection, e.Collection, StringComparison.Ordinal) || string.Equals(face.PersonId, e.ToPerson, StringComparison.Ordinal))
            {
                continue;
            }

            if (!sources.TryGetValue(face.PersonId, out var from) && ReadPersonState(Keys.ForPerson(e.Collection, face.PersonId)) is { } read)
            {
                sources[face.PersonId] = from = read;
            }

            from?.FaceIds.Remove(faceId);
            if (face.ContentHash is { } hash)
            {
                DropFromContentHash(e.Collection, face.PersonId, hash, faceId, from);
                AddToContentHash(e.Collection, e.ToPerson, hash, [faceId], to);
            }

            // The record keeps everything but its person: id, vector, tags, time and sequence stay.
            var stored = new StoredFace(face.FaceId, face.Vector, face.Box, face.DetectionScore, face.SecondaryVector);
            var owner = new AddFacesEntry(face.Collection, e.ToPerson, face.ModelVersion, face.ContentHash, face.Tags, face.CreatedAt.UtcTicks, []);
            KvCodec.WriteFace(_valueWriter, owner, stored, face.Sequence);
            _kv.Upsert(faceKey, _valueWriter.WrittenSpan);
            if (!to.FaceIds.Contains(faceId))
            {
                to.FaceIds.Add(faceId);
            }

            lock (state.Gate)
            {
                state.Faces[faceId] = e.ToPerson;
            }
        }

        foreach (var (personId, from) in sources)
        {
            WritePerson(state, Keys.ForPerson(e.Collection, personId), personId, from, isNew: false);
        }

        if (!isNew || to.FaceIds.Count > 0)
        {
            WritePerson(state, toKey, e.ToPerson, to, isNew);
        }
    }

    /// <summary>Adds faces to the ids stored under a person's image hash, and the hash to the person's list.</summary>
    private void AddToContentHash(string collection, string personId, byte[] hash, IEnumerable<long> faceIds, PersonState person)
    {
        var hashKey = Keys.ForContentHash(collection, personId, hash);
        var ids = _kv.WriterRead(hashKey) is { } existing ? KvCodec.ReadFaceIds(existing) : [];
        foreach (var faceId in faceIds)
        {
            if (!ids.Contains(faceId))
            {
                ids.Add(faceId);
            }
        }

        KvCodec.WriteFaceIds(_valueWriter, ids);
        _kv.Upsert(hashKey, _valueWriter.WrittenSpan);
        if (!person.ContentHashes.Exists(h => h.AsSpan().SequenceEqual(hash)))
        {
            person.ContentHashes.Add(hash);
        }
    }

    /// <summary>Removes a face from the ids stored under a person's image hash; the last one takes the hash off the person (when known).</summary>
    private void DropFromContentHash(string collection, string personId, byte[] hash, long faceId, PersonState? person)
    {
        var hashKey = Keys.ForContentHash(collection, personId, hash);
        var ids = _kv.WriterRead(hashKey) is { } existing ? KvCodec.ReadFaceIds(existing) : [];
        ids.Remove(faceId);
        if (ids.Count == 0)
        {
            _kv.Delete(hashKey);
            person?.ContentHashes.RemoveAll(h => h.AsSpan().SequenceEqual(hash));
        }
        else
        {
            KvCodec.WriteFaceIds(_valueWriter, ids);
            _kv.Upsert(hashKey, _valueWriter.WrittenSpan);
        }
    }

    private void DeletePersonContent(CollectionState state, byte[] personKey, string personId, PersonState person)
    {
        foreach (var faceId in person.FaceIds)
        {
            _kv.Delete(Keys.ForFace(faceId));
        }

        foreach (var hash in person.ContentHashes)
        {
            _kv.Delete(Keys.ForContentHash(state.Name, personId, hash));
        }

        _kv.Delete(personKey);
        lock (state.Gate)
        {
            foreach (var faceId in person.FaceIds)
            {
                state.Faces.Remove(faceId);
            }

            if (state.Persons.Remove(personId))
            {
                _personCount--;
            }
        }
    }

    private void WritePerson(CollectionState state, byte[] personKey, string personId, PersonState person, bool isNew)
    {
        KvCodec.WritePerson(_valueWriter, person);
        _kv.Upsert(personKey, _valueWriter.WrittenSpan);
        if (isNew)
        {
            lock (state.Gate)
            {
                if (state.Persons.Add(personId))
                {
                    _personCount++;
                }
            }
        }
    }

    private PersonState? ReadPersonState(byte[] personKey) =>
        _kv.WriterRead(personKey) is { } value ? KvCodec.ReadPerson(value) : null;
}
