using System.Buffers.Binary;
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
            _lastSequence = cookie.LastSequence;
            _lastCheckpointTicks = cookie.TakenAt.UtcTicks;
        }

        // The log holds every version of every key in address order: the last one wins.
        var faces = new Dictionary<long, (string Collection, string PersonId)>();
        var persons = new HashSet<(string Collection, string PersonId)>();
        var collections = new Dictionary<string, CollectionState>(StringComparer.Ordinal);
        var blobs = new HashSet<string>(StringComparer.Ordinal);
        _kv.ScanLog((key, value, deleted) =>
        {
            switch (key[0])
            {
                case Keys.Face:
                    var faceId = BinaryPrimitives.ReadInt64LittleEndian(key[1..]);
                    _nextFaceId = Math.Max(_nextFaceId, faceId + 1);
                    if (deleted)
                    {
                        faces.Remove(faceId);
                    }
                    else
                    {
                        faces[faceId] = KvCodec.ReadFaceOwner(value);
                    }

                    break;
                case Keys.Person when deleted:
                    persons.Remove(Keys.ParsePerson(key));
                    break;
                case Keys.Person:
                    persons.Add(Keys.ParsePerson(key));
                    break;
                case Keys.Collection when deleted:
                    collections.Remove(Keys.ParseName(key));
                    break;
                case Keys.Collection:
                    var name = Keys.ParseName(key);
                    var (model, created) = KvCodec.ReadCollection(value);
                    collections[name] = new CollectionState(name, model, new DateTimeOffset(created, TimeSpan.Zero));
                    break;
                case Keys.Blob when deleted:
                    blobs.Remove(Keys.ParseName(key));
                    break;
                case Keys.Blob:
                    blobs.Add(Keys.ParseName(key));
                    break;
                default:
                    break;
            }
        });

        foreach (var (name, state) in collections)
        {
            _collections[name] = state;
        }

        foreach (var key in blobs)
        {
            _blobKeys.Add(key);
        }

        foreach (var (collection, personId) in persons)
        {
            if (_collections.TryGetValue(collection, out var state) && state.Persons.Add(personId))
            {
                _personCount++;
            }
        }

        foreach (var (faceId, (collection, personId)) in faces)
        {
            if (_collections.TryGetValue(collection, out var state))
            {
                // One string per person, shared by the person's faces and the person list.
                state.Faces[faceId] = state.Persons.TryGetValue(personId, out var shared) ? shared : personId;
            }
        }

        var replayed = Replay(Math.Max(_checkpointAddress, _wal.BeginAddress));
        _committedTail = _wal.TailAddress;
        return replayed;
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
