using System.Buffers.Binary;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;
using FASTER.core;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    /// <summary>
    /// Rebuilds the in-memory directory from the recovered key-value checkpoint, then replays the log
    /// entries after the address the checkpoint covers. Returns the number of entries replayed.
    /// </summary>
    /// <param name="damage">
    /// Null to refuse a log that cannot be read (<see cref="FaceIndexError.StorageCorrupted"/>); otherwise
    /// receives what recovery stopped at, for <see cref="RepairLogAsync"/>, and every entry before it is applied.
    /// </param>
    private long Recover(List<LogDamage>? damage = null)
    {
        var cookie = _kv.Recovered;
        if (cookie is not null)
        {
            _nextFaceId = Math.Max(_nextFaceId, cookie.NextFaceId);
            _checkpointAddress = cookie.WalAddress;
            _previousCheckpointAddress = cookie.WalAddress;
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

        var replayed = Replay(Math.Max(_checkpointAddress, _wal.BeginAddress), damage);
        _committedTail = _wal.TailAddress;
        return replayed;
    }

    /// <summary>
    /// Applies every committed log entry from <paramref name="from"/> to the tail. A committed entry that
    /// cannot be read is corruption: the store refuses to open (or, for a repair, stops there).
    /// </summary>
    /// <remarks>
    /// Two checks: FasterLog's per-entry checksum, which FasterLog itself verifies only for pages it
    /// reads back from disk (not for the tail page it recovers into memory), so it is verified here
    /// for every entry against the header in the segment file; then the entry codec.
    /// </remarks>
    private long Replay(long from, List<LogDamage>? damage)
    {
        long replayed = 0;
        var end = _wal.TailAddress;
        if (from >= end)
        {
            return 0;
        }

        using var checksums = new WalChecksums(WalSegmentPrefix(_options.DataDirectory), _options.SegmentSizeBytes);
        using var iterator = _wal.Scan(from, end);
        long expected = from;
        while (true)
        {
            byte[] entry;
            int length;
            long address;
            long next;
            try
            {
                if (!iterator.GetNext(out entry, out length, out address, out next))
                {
                    break;
                }
            }
            catch (FasterException ex)
            {
                // FasterLog's own check of a page read from disk: the entry after the last good one is bad.
                return Corrupted(damage, expected, end, "an entry whose bytes match its checksum", ex.Message, ex, replayed);
            }

            if (!checksums.Matches(address, entry.AsSpan(0, length), out string? mismatch))
            {
                return Corrupted(damage, address, end, "an entry whose bytes match its checksum", mismatch, null, replayed);
            }

            WalEntry decoded;
            try
            {
                decoded = WalCodec.Decode(entry.AsSpan(0, length));
            }
            catch (InvalidDataException ex)
            {
                return Corrupted(damage, address, end, $"a log entry of format version {WalCodec.FormatVersion}", ex.Message, ex, replayed);
            }

            Apply(decoded, address);
            _lastSequence = address;
            expected = next;
            replayed++;
        }

        return replayed;
    }

    /// <summary>Refuses to go on (no damage list: opening), or records where recovery stopped (a repair).</summary>
    private long Corrupted(List<LogDamage>? damage, long address, long tail, string expected, string found, Exception? inner, long replayed)
    {
        var at = new LogDamage(address, tail, expected, found);
        if (damage is not null)
        {
            damage.Add(at);
            return replayed;
        }

        var directory = Path.GetFullPath(_options.DataDirectory);
        throw new FaceIndexException(
            FaceIndexError.StorageCorrupted,
            $"The store at '{directory}' is corrupted: the committed write-ahead-log entry at address {address} " +
            $"({WalSegmentName(address, _options.SegmentSizeBytes)}) cannot be read: expected {expected}, found: {found}. " +
            $"Every entry before it is intact. To start, run 'faceindex repair --data {directory}': it lists what it " +
            $"drops (this entry and every later one, up to address {tail}) and truncates the log there.",
            inner);
    }
}
