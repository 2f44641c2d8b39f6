using Google.Protobuf;

namespace FaceIndex.CrashTests;

/// <summary>
/// What the clients were told: every face whose enrol was acknowledged (with its vector when the
/// client sent one), every face whose delete was acknowledged, and the deletes still in flight.
/// Face ids are never reused, so a delete wins over a late-processed enrol reply of the same id.
/// Enrols the client cancelled after sending are "undecided": the store may or may not hold them,
/// and when it does they must be searchable like any other face. Thread-safe.
/// </summary>
internal sealed class Ledger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, string> _live = [];
    private readonly HashSet<long> _deleted = [];
    private readonly HashSet<long> _deletesInFlight = [];

    /// <summary>Persons with a DeletePerson in flight: any of their faces may be gone when it was applied before the kill.</summary>
    private readonly Dictionary<string, int> _personDeletesInFlight = new(StringComparer.Ordinal);
    private readonly List<long> _liveList = [];

    /// <summary>Every vector sent, by the key in its face's "v" tag (the live check searches with it).</summary>
    private readonly Dictionary<string, ByteString> _vectors = new(StringComparer.Ordinal);

    /// <summary>Vectors of enrols cancelled by the client before an answer, not yet seen in the store.</summary>
    private readonly HashSet<ByteString> _undecided = [];

    /// <summary>Vectors of cancelled enrols that the store was seen to hold.</summary>
    private readonly HashSet<ByteString> _cancelledStored = [];

    /// <summary>Enrols the client cancelled (deadline or token) before their answer came.</summary>
    public long CancelledEnrols { get; private set; }

    /// <summary>Cancelled enrols that the store holds all the same (seen in an offline read or by the live server).</summary>
    public long CancelledStored
    {
        get
        {
            lock (_gate)
            {
                return _cancelledStored.Count;
            }
        }
    }

    /// <summary>Enrols acknowledged over all runs (faces).</summary>
    public long AcknowledgedFaces { get; private set; }

    /// <summary>Deletes acknowledged over all runs (faces).</summary>
    public long AcknowledgedDeletes { get; private set; }

    /// <summary>Faces that were stored without the client hearing so (the reply was lost in the kill), adopted as live.</summary>
    public long Adopted { get; private set; }

    /// <summary>Acknowledged live faces now.</summary>
    public int LiveCount
    {
        get
        {
            lock (_gate)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Registers a vector about to be enrolled; returns the key its face carries in the "v" tag.</summary>
    public string NewVector(ByteString data)
    {
        lock (_gate)
        {
            var key = _vectors.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _vectors[key] = data;
            return key;
        }
    }

    /// <summary>The vector sent under <paramref name="key"/>.</summary>
    public bool TryGetVector(string key, out ByteString data)
    {
        lock (_gate)
        {
            return _vectors.TryGetValue(key, out data!);
        }
    }

    /// <summary>An enrol of <paramref name="vector"/> was cancelled by its client before the answer: it may or may not be stored.</summary>
    public void Undecided(ByteString vector)
    {
        lock (_gate)
        {
            CancelledEnrols++;
            _undecided.Add(vector);
        }
    }

    /// <summary>True when <paramref name="vector"/> was sent by an enrol that its client cancelled; a stored one is counted in <see cref="CancelledStored"/>.</summary>
    public bool SeenStored(ByteString vector)
    {
        lock (_gate)
        {
            if (_undecided.Remove(vector))
            {
                _cancelledStored.Add(vector);
            }

            return _cancelledStored.Contains(vector);
        }
    }

    public void AckEnrol(long faceId, string personId)
    {
        lock (_gate)
        {
            AcknowledgedFaces++;
            if (!_deleted.Contains(faceId) && _live.TryAdd(faceId, personId))
            {
                _liveList.Add(faceId);
            }
        }
    }

    public void DeleteSent(long faceId)
    {
        lock (_gate)
        {
            _deletesInFlight.Add(faceId);
        }
    }

    /// <summary>A DeletePerson was sent: until it is answered, each face of the person may be deleted by it.</summary>
    public void PersonDeleteSent(string personId)
    {
        lock (_gate)
        {
            _personDeletesInFlight[personId] = _personDeletesInFlight.GetValueOrDefault(personId) + 1;
        }
    }

    /// <summary>A DeletePerson was answered (its deleted faces are acknowledged with <see cref="AckDelete"/>).</summary>
    public void PersonDeleteDone(string personId)
    {
        lock (_gate)
        {
            if (_personDeletesInFlight.TryGetValue(personId, out int n) && n > 1)
            {
                _personDeletesInFlight[personId] = n - 1;
            }
            else
            {
                _personDeletesInFlight.Remove(personId);
            }
        }
    }

    public void AckDelete(long faceId)
    {
        lock (_gate)
        {
            AcknowledgedDeletes++;
            _deletesInFlight.Remove(faceId);
            _live.Remove(faceId);
            _deleted.Add(faceId);
        }
    }

    /// <summary>A random acknowledged live face with no delete in flight; false when there is none.</summary>
    public bool TryPickLive(Random random, out long faceId)
    {
        lock (_gate)
        {
            for (int attempt = 0; attempt < 8 && _liveList.Count > 0; attempt++)
            {
                int i = random.Next(_liveList.Count);
                faceId = _liveList[i];
                if (!_live.ContainsKey(faceId))
                {
                    // Deleted since (or by DeletePerson): drop it from the pick list.
                    _liveList[i] = _liveList[^1];
                    _liveList.RemoveAt(_liveList.Count - 1);
                    continue;
                }

                if (!_deletesInFlight.Contains(faceId))
                {
                    return true;
                }
            }

            faceId = 0;
            return false;
        }
    }

    /// <summary>True when the face's delete was acknowledged.</summary>
    public bool IsDeleted(long faceId)
    {
        lock (_gate)
        {
            return _deleted.Contains(faceId);
        }
    }

    /// <summary>
    /// Compares the ledger with what the store holds after a crash and adopts the store's answer for
    /// everything the clients were not told: a face stored without an acknowledgement becomes live, a
    /// delete in flight took effect or not. Returns the acknowledged faces the store lost and the
    /// acknowledged deletes it brought back (both must be empty).
    /// </summary>
    public (List<long> Lost, List<long> Resurrected) Reconcile(IReadOnlyDictionary<long, string> stored)
    {
        lock (_gate)
        {
            var lost = new List<long>();
            var deletedInFlight = new List<long>();
            foreach (var (faceId, personId) in _live)
            {
                if (stored.ContainsKey(faceId))
                {
                    continue;
                }

                // Gone by a delete the client never heard back from: its effect is the store's answer.
                if (_deletesInFlight.Contains(faceId) || _personDeletesInFlight.ContainsKey(personId))
                {
                    deletedInFlight.Add(faceId);
                }
                else
                {
                    lost.Add(faceId);
                }
            }

            foreach (var faceId in deletedInFlight)
            {
                _live.Remove(faceId);
                _deleted.Add(faceId);
            }

            var resurrected = _deleted.Where(stored.ContainsKey).ToList();
            foreach (var faceId in _deletesInFlight)
            {
                if (!stored.ContainsKey(faceId))
                {
                    _live.Remove(faceId);
                    _deleted.Add(faceId);
                }
            }

            _deletesInFlight.Clear();
            _personDeletesInFlight.Clear();
            foreach (var (faceId, personId) in stored)
            {
                if (!_deleted.Contains(faceId) && _live.TryAdd(faceId, personId))
                {
                    _liveList.Add(faceId);
                    Adopted++;
                }
            }

            // The store is the truth from here on (a lost face is reported once, not in every later run).
            foreach (var faceId in lost)
            {
                _live.Remove(faceId);
            }

            return (lost, resurrected);
        }
    }
}
