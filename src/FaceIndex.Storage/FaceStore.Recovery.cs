using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>
    /// Rebuilds the in-memory directory from the recovered key-value checkpoint, then replays the log
    /// entries after the address the checkpoint covers. Returns the number of entries replayed.
    /// </summary>
    private long Recover()
    {
        var cookie = _kv.Recovered;
        if (cookie is not null)
        {
            _nextFaceId = Math.Max(_nextFaceId, cookie.NextFaceId);
            _checkpointAddress = cookie.WalAddress;
            _lastCheckpointTicks = cookie.TakenAt.UtcTicks;
        }

        var faces = new List<(long FaceId, string Collection)>();
        var persons = new List<(string Collection, string PersonId)>();
        _kv.ForEach((key, value) =>
        {
            switch (key[0])
            {
                case Keys.Face:
                    faces.Add(KvCodec.ReadFaceIdentity(value));
                    break;
                case Keys.Person:
                    persons.Add(Keys.ParsePerson(key));
                    break;
                case Keys.Collection:
                    var name = Keys.ParseName(key);
                    var (model, created) = KvCodec.ReadCollection(value);
                    _collections[name] = new CollectionState(name, model, new DateTimeOffset(created, TimeSpan.Zero));
                    break;
                case Keys.Blob:
                    _blobKeys.Add(Keys.ParseName(key));
                    break;
                default:
                    break;
            }
        });

        foreach (var (faceId, collection) in faces)
        {
            if (_collections.TryGetValue(collection, out var state))
            {
                state.Faces.Add(faceId);
            }

            _nextFaceId = Math.Max(_nextFaceId, faceId + 1);
        }

        foreach (var (collection, personId) in persons)
        {
            if (_collections.TryGetValue(collection, out var state) && state.Persons.Add(personId))
            {
                _personCount++;
            }
        }

        return Replay(Math.Max(_checkpointAddress, _wal.BeginAddress));
    }

    /// <summary>Applies every committed log entry from <paramref name="from"/> to the tail.</summary>
    private long Replay(long from)
    {
        long replayed = 0;
        var end = _wal.TailAddress;
        if (from >= end)
        {
            return 0;
        }

        using var iterator = _wal.Scan(from, end);
        while (iterator.GetNext(out byte[] entry, out var length, out var address))
        {
            WalEntry decoded;
            try
            {
                decoded = WalCodec.Decode(entry.AsSpan(0, length));
            }
            catch (InvalidDataException ex)
            {
                StoreLog.MalformedEntry(_logger, address, ex);
                continue;
            }

            Apply(decoded, address);
            _lastSequence = address;
            replayed++;
        }

        return replayed;
    }
}
