using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

/// <summary>
/// Hierarchical navigable small-world graph (Malkov &amp; Yashunin) over <see cref="FaceVector"/>s:
/// approximate nearest neighbours by int8 dot product, with concurrent inserts and searches,
/// deletes by tombstone with repair, and binary snapshots.
/// </summary>
/// <remarks>
/// <para>
/// Memory: see <c>Internal/GraphStorage</c> — vectors in one contiguous aligned block, base-layer
/// lists in one flat block, sparse upper layers behind a small map, a compact id map: about
/// 273 bytes per vector at M = 16, all structures counted (<see cref="MemoryBytes"/>).
/// </para>
/// <para>
/// Concurrency: searches take no lock. Mutations (add, remove) hold a shared structure lock;
/// growth, save and each repair step hold it exclusively. Neighbour lists are written under
/// striped per-node locks; the entry point is replaced under its own lock.
/// </para>
/// <para>
/// Deletes: a remove only sets the vector's tombstone (searches skip it at once; the graph still
/// traverses it). Repair is the owner's background work, in bounded steps
/// (<see cref="NeedsRepair"/>, <see cref="RepairStep"/>): a round claims the deleted slots, rewrites
/// every list that links to them, raises an epoch, and frees the slots for reuse only once every
/// lock-free search that began before the rewrite has ended, so a search never reads a slot that
/// is freed and taken by another vector under it (a grace period, as in RCU; see
/// <c>HnswIndex.Epochs.cs</c>).
/// </para>
/// <para>
/// A single-threaded build from the same sequence of adds with the same options gives the
/// same graph (levels come from a seeded generator), hence the same search results.
/// </para>
/// </remarks>
public sealed partial class HnswIndex : IVectorIndex
{
    /// <summary>The most vectors (slots) one index can hold.</summary>
    public const int MaxCapacity = 1 << 26;

    /// <summary>Highest level a node can have.</summary>
    internal const int MaxLevel = 15;

    private const int LockStripes = 1 << 12;

    private readonly IndexOptions _options;
    private readonly int _m;
    private readonly int _m0;
    private readonly double _levelMultiplier;
    private readonly Random _levelRandom;
    private readonly ReaderWriterLockSlim _structureLock = new(LockRecursionPolicy.NoRecursion);
    private readonly Lock _allocationLock = new();
    private readonly Lock _entryLock = new();
    private readonly Lock[] _stripes;
    private readonly SearchContextPool _contexts = new();
    private readonly IdMap _idMap;
    private readonly Stack<int> _freeSlots = new();
    private volatile GraphStorage _storage;
    private int _nextSlot;
    private int _count;
    private int _deleted;

    /// <summary>Creates an empty index.</summary>
    /// <param name="options">Parameters (validated, and copied); null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public HnswIndex(IndexOptions? options = null)
        : this(options, null)
    {
    }

    private HnswIndex(IndexOptions? options, GraphStorage? storage)
    {
        _options = options?.Clone() ?? new IndexOptions();
        _options.Validate();
        _m = _options.M;
        _m0 = _options.MaxLinksBase;
        // Levels: P(level ≥ l) = (2M)^−l, so one node in 2·M has upper layers (the paper's 1/ln M
        // gives one in M). In 128 dimensions the hierarchy only shortens the way to the query's
        // region: halving it measured no loss of recall at 1M vectors and saves 2.5 bytes a vector.
        _levelMultiplier = 1.0 / Math.Log(_m0);
        _levelRandom = new Random(_options.Seed);
        _stripes = new Lock[LockStripes];
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new Lock();
        }

        int capacity = _options.InitialCapacity;
        _storage = storage ?? new GraphStorage(capacity, _m, new UpperLayers(_m, ExpectedUpperNodes(capacity)));
        _idMap = new IdMap(storage is null ? capacity : 0);
    }

    /// <summary>The parameters this index runs with (a copy).</summary>
    public IndexOptions Options => _options.Clone();

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public void Dispose() => _structureLock.Dispose();

    /// <summary>Deleted vectors whose slots are not free yet (awaiting a repair round, or the end of the searches that may read them).</summary>
    public int DeletedCount => Volatile.Read(ref _deleted);

    /// <summary>
    /// Bytes the index holds: vectors, links, ids, id map and search scratch. Divided by
    /// <see cref="Count"/> it is the memory cost per vector.
    /// </summary>
    public long MemoryBytes
    {
        get
        {
            _structureLock.EnterReadLock();
            try
            {
                lock (_allocationLock)
                {
                    return _storage.MemoryBytes + _idMap.MemoryBytes + ((long)_freeSlots.Count * sizeof(int)) + _contexts.MemoryBytes;
                }
            }
            finally
            {
                _structureLock.ExitReadLock();
            }
        }
    }

    /// <summary>Bytes by structure, for the benchmark's report: vectors, base lists, ids and tombstones, upper layers, id map, search scratch.</summary>
    internal (long Vectors, long BaseLists, long IdsAndTombstones, long UpperLayers, long IdMap, long Scratch) MemoryBreakdown()
    {
        _structureLock.EnterReadLock();
        try
        {
            lock (_allocationLock)
            {
                var storage = _storage;
                long vectors = (long)storage.Capacity * GraphStorage.VectorBytes;
                long lists = (long)storage.Capacity * _m0 * sizeof(int);
                long upper = storage.Upper.MemoryBytes;
                long idsAndTombstones = storage.MemoryBytes - vectors - lists - upper;
                return (vectors, lists, idsAndTombstones, upper, _idMap.MemoryBytes, _contexts.MemoryBytes + ((long)_freeSlots.Count * sizeof(int)));
            }
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <summary>Slots ever used (live, deleted and free): free slots are reused before this grows.</summary>
    internal int SlotsInUse => Volatile.Read(ref _nextSlot);

    /// <summary>Diagnostics: how many base-layer lists link to <paramref name="id"/> (−1 when absent).</summary>
    internal int BaseInDegree(long id)
    {
        var storage = _storage;
        return _idMap.TryGet(id, storage.Ids, out int target) ? CountInDegrees(storage)[target] : -1;
    }

    /// <inheritdoc />
    public bool Contains(long id)
    {
        _structureLock.EnterReadLock();
        try
        {
            lock (_allocationLock)
            {
                return _idMap.TryGet(id, _storage.Ids, out _);
            }
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <summary>
    /// The ids the index holds (every id for which <see cref="Contains"/> is true), in slot order
    /// (insertion order, unless slots were reused). For reconciling a loaded snapshot with the
    /// store at start-up: ids here but no longer in the store are then removed.
    /// </summary>
    /// <remarks>A consistent cut: adds and removes wait while the ids are copied (about a millisecond per 100 000 ids).</remarks>
    public long[] GetIds()
    {
        _structureLock.EnterReadLock();
        try
        {
            lock (_allocationLock)
            {
                var slots = new int[_idMap.Count];
                _idMap.CopySlots(slots);
                Array.Sort(slots);
                var ids = new long[slots.Length];
                var slotIds = _storage.Ids;
                for (int i = 0; i < slots.Length; i++)
                {
                    ids[i] = slotIds[slots[i]];
                }

                return ids;
            }
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public unsafe bool TryGetVector(long id, out FaceVector vector)
    {
        _structureLock.EnterReadLock();
        try
        {
            var storage = _storage;
            int slot;
            lock (_allocationLock)
            {
                if (!_idMap.TryGet(id, storage.Ids, out slot))
                {
                    vector = default;
                    return false;
                }
            }

            vector = FaceVector.FromBytes(new ReadOnlySpan<byte>(storage.Vector(slot), GraphStorage.VectorBytes));
            return true;
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Tombstones the vector and returns: searches skip it at once, and it stays in the graph (still
    /// traversed) until a repair round frees its slot. A remove never repairs: the owner of the index
    /// calls <see cref="RepairStep"/> in the background while <see cref="NeedsRepair"/> is true.
    /// </remarks>
    public bool Remove(long id)
    {
        _structureLock.EnterReadLock();
        try
        {
            var storage = _storage;
            lock (_allocationLock)
            {
                if (!_idMap.Remove(id, storage.Ids, out int slot))
                {
                    return false;
                }

                storage.SetDeleted(slot);
                _count--;
                _deleted++;
                return true;
            }
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <summary>Nodes expected on the upper layers among <paramref name="capacity"/> (P(level ≥ 1) = e^(−1/mL)), with 10 % to spare.</summary>
    private int ExpectedUpperNodes(int capacity) => (int)(capacity * Math.Exp(-1 / _levelMultiplier) * 1.1) + 16;

    private Lock StripeOf(int slot) => _stripes[slot & (LockStripes - 1)];

    private int NextLevel()
    {
        double u = 1.0 - _levelRandom.NextDouble();
        return Math.Min(MaxLevel, (int)(-Math.Log(u) * _levelMultiplier));
    }
}
