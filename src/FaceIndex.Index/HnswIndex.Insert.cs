using System.Runtime.CompilerServices;
using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The index holds <see cref="MaxCapacity"/> vectors.</exception>
    public unsafe void Add(long id, in FaceVector vector)
    {
        int slot = Reserve(id, out int level, out var storage);
        try
        {
            Unsafe.CopyBlockUnaligned(
                ref *storage.Vector(slot),
                ref Unsafe.As<FaceVector, byte>(ref Unsafe.AsRef(in vector)),
                GraphStorage.VectorBytes);

            Publish(storage, slot, id);
            Link(storage, slot, level);
        }
        finally
        {
            _structureLock.ExitReadLock();
        }
    }

    /// <summary>
    /// Adds many vectors on <paramref name="maxDegreeOfParallelism"/> threads (0 = all cores).
    /// With one thread the result is deterministic.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or an id is present already (the vectors before it are added).</exception>
    public void AddRange(ReadOnlyMemory<long> ids, ReadOnlyMemory<FaceVector> vectors, int maxDegreeOfParallelism = 0, CancellationToken cancellationToken = default)
    {
        if (ids.Length != vectors.Length)
        {
            throw new ArgumentException($"{ids.Length} ids but {vectors.Length} vectors.", nameof(vectors));
        }

        EnsureCapacity(_nextSlot + ids.Length);
        if (maxDegreeOfParallelism == 1)
        {
            for (int i = 0; i < ids.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Add(ids.Span[i], in vectors.Span[i]);
            }

            return;
        }

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : maxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        };

        // Small chunks handed out in order keep concurrent inserts close to file order.
        int next = -1;
        Parallel.For(0, parallel.MaxDegreeOfParallelism, parallel, _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < ids.Length)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Add(ids.Span[i], in vectors.Span[i]);
            }
        });
    }

    /// <summary>Grows the index now to hold at least <paramref name="capacity"/> vectors, so that later adds do not pause to grow it.</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity > _storage.Capacity)
        {
            Grow(capacity, 0);
        }
    }

    /// <summary>
    /// Draws the level, checks the id, and takes a slot (and an upper-layer block), growing the
    /// storage when it is full. The slot comes back tombstoned (pending): no scan returns it
    /// before <see cref="Publish"/>. Returns with the structure lock held shared.
    /// </summary>
    private int Reserve(long id, out int level, out GraphStorage storage)
    {
        level = -1;
        while (true)
        {
            _structureLock.EnterReadLock();
            storage = _storage;
            int slot = -1;
            bool duplicate = false;
            int needUpper = 0;
            lock (_allocationLock)
            {
                if (_idMap.TryGet(id, storage.Ids, out _))
                {
                    duplicate = true;
                }
                else
                {
                    if (level < 0)
                    {
                        level = NextLevel();
                    }

                    needUpper = storage.UpperBlockSize(level);
                    bool slotFree = _freeSlots.Count > 0 || _nextSlot < storage.Capacity;
                    if (slotFree && storage.UpperUsed + needUpper <= storage.UpperCapacity)
                    {
                        slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : NewSlot(storage);
                        storage.UpperRef[slot] = level == 0 ? 0 : storage.AllocateUpper(level);
                        storage.Ids[slot] = id;
                        _idMap.Add(id, slot, storage.Ids);
                        _count++;
                    }
                }
            }

            if (slot >= 0)
            {
                return slot;
            }

            _structureLock.ExitReadLock();
            if (duplicate)
            {
                throw new ArgumentException($"The index holds id {id} already.", nameof(id));
            }

            Grow(_nextSlot + 1, needUpper);
        }
    }

    /// <summary>
    /// Takes a never-used slot: its tombstone is set before the slot count that lock-free scans
    /// read is raised, so a scan never sees the slot's unwritten vector. Free slots keep the
    /// tombstone they had since the repair that freed them.
    /// </summary>
    private int NewSlot(GraphStorage storage)
    {
        int slot = _nextSlot;
        storage.SetDeleted(slot);
        Volatile.Write(ref _nextSlot, slot + 1);
        return slot;
    }

    /// <summary>
    /// Clears the pending tombstone once the vector is written, unless the id was removed (or
    /// removed and added again elsewhere) meanwhile: then the slot stays deleted, as counted.
    /// </summary>
    private void Publish(GraphStorage storage, int slot, long id)
    {
        lock (_allocationLock)
        {
            if (_idMap.TryGet(id, storage.Ids, out int current) && current == slot)
            {
                storage.ClearDeleted(slot);
            }
        }
    }

    /// <summary>Replaces the storage with a bigger copy (exclusive: waits for running mutations).</summary>
    private void Grow(int minCapacity, int upperNeeded)
    {
        _structureLock.EnterWriteLock();
        try
        {
            var old = _storage;
            bool slotsOk = minCapacity <= old.Capacity;
            bool upperOk = old.UpperUsed + upperNeeded <= old.UpperCapacity;
            if (slotsOk && upperOk)
            {
                return;
            }

            if (minCapacity > MaxCapacity)
            {
                throw new InvalidOperationException($"An index holds at most {MaxCapacity} vectors.");
            }

            int capacity = slotsOk ? old.Capacity : (int)Math.Clamp(Math.Max((long)old.Capacity * 3 / 2, minCapacity), 1, MaxCapacity);
            long upper = Math.Max(old.UpperCapacity, InitialUpperCapacity(capacity));
            while (upper < old.UpperUsed + upperNeeded)
            {
                upper = upper * 3 / 2;
            }

            _storage = old.Grow(capacity, (int)Math.Min(upper, Array.MaxLength), _nextSlot);
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }

    /// <summary>Links the node in <paramref name="slot"/> (vector already written) into every layer up to its level.</summary>
    private unsafe void Link(GraphStorage storage, int slot, int level)
    {
        long entry = Volatile.Read(ref _entry);
        if (entry < 0)
        {
            lock (_entryLock)
            {
                if (_entry < 0)
                {
                    Volatile.Write(ref _entry, PackEntry(level, slot));
                    return;
                }
            }

            entry = Volatile.Read(ref _entry);
        }

        // A node that rises above the current top level holds the entry lock for its whole insert,
        // so that no other node becomes the entry point meanwhile.
        bool holdsEntry = false;
        if (level > EntryLevel(entry))
        {
            _entryLock.Enter();
            holdsEntry = true;
            entry = _entry;
            if (level <= EntryLevel(entry))
            {
                _entryLock.Exit();
                holdsEntry = false;
            }
        }

        var context = _contexts.Rent();
        try
        {
            context.Ensure(_m0, _options.EfConstruction);
            byte* query = storage.Vector(slot);
            int top = EntryLevel(entry);
            int current = EntrySlot(entry);
            int currentScore = Dot(query, storage.Vector(current));
            for (int l = top; l > level; l--)
            {
                current = Greedy(storage, query, current, ref currentScore, l);
            }

            for (int l = Math.Min(level, top); l >= 0; l--)
            {
                SearchLayer(context, storage, query, current, currentScore, _options.EfConstruction, l, liveOnly: false);
                int found = context.Results.DrainBestFirst(context.Keys);
                var keys = context.Keys.AsSpan(0, found);
                if (found > 0)
                {
                    current = Key.Slot(keys[0]);
                    currentScore = Key.Score(keys[0]);
                }

                int chosenCount = SelectNeighbors(storage, keys, slot, _m, context.Chosen, skipDeleted: true);
                var chosen = context.Chosen.AsSpan(0, chosenCount);
                WriteList(storage, slot, l, chosen);
                int maxLinks = l == 0 ? _m0 : _m;
                foreach (int neighbour in chosen)
                {
                    Connect(context, storage, neighbour, slot, l, maxLinks);
                }
            }

            if (holdsEntry)
            {
                Volatile.Write(ref _entry, PackEntry(level, slot));
            }
        }
        finally
        {
            _contexts.Return(context);
            if (holdsEntry)
            {
                _entryLock.Exit();
            }
        }
    }

    /// <summary>Replaces the list of <paramref name="slot"/> at <paramref name="level"/> with <paramref name="links"/>.</summary>
    private unsafe void WriteList(GraphStorage storage, int slot, int level, ReadOnlySpan<int> links)
    {
        lock (StripeOf(slot))
        {
            int* list = storage.List(slot, level, out int capacity);
            StoreList(list, capacity, links);
        }
    }

    /// <summary>Adds <paramref name="added"/> to the list of <paramref name="node"/>; a full list is pruned by the heuristic.</summary>
    private unsafe void Connect(SearchContext context, GraphStorage storage, int node, int added, int level, int maxLinks)
    {
        lock (StripeOf(node))
        {
            int* list = storage.List(node, level, out int capacity);
            int count = 0;
            while (count < capacity && list[count] >= 0)
            {
                if (list[count] == added)
                {
                    return;
                }

                count++;
            }

            if (count < capacity)
            {
                // Terminate first, then publish the new link: a concurrent reader never runs past the end.
                if (count + 1 < capacity)
                {
                    list[count + 1] = -1;
                }

                Volatile.Write(ref list[count], added);
                return;
            }

            byte* origin = storage.Vector(node);
            var keys = context.Keys.AsSpan(0, count + 1);
            for (int i = 0; i < count; i++)
            {
                keys[i] = Key.Pack(Dot(origin, storage.Vector(list[i])), list[i]);
            }

            keys[count] = Key.Pack(Dot(origin, storage.Vector(added)), added);
            keys.Sort();
            keys.Reverse();
            int selected = SelectNeighbors(storage, keys, node, maxLinks, context.Selected, skipDeleted: true);
            StoreList(list, capacity, context.Selected.AsSpan(0, selected));
        }
    }

    /// <summary>Writes a list in place: links first, then the terminator (readers see only valid slots).</summary>
    private static unsafe void StoreList(int* list, int capacity, ReadOnlySpan<int> links)
    {
        for (int i = 0; i < links.Length; i++)
        {
            Volatile.Write(ref list[i], links[i]);
        }

        if (links.Length < capacity)
        {
            Volatile.Write(ref list[links.Length], -1);
        }
    }

    /// <summary>
    /// The neighbour-selection heuristic of the HNSW paper (algorithm 4): walking the candidates
    /// best first, keep one only when it is closer to the origin than to every one kept so far,
    /// which spreads links over directions instead of crowding one cluster.
    /// </summary>
    /// <param name="storage">The graph.</param>
    /// <param name="candidates">Keys scored against the origin, best first.</param>
    /// <param name="origin">The node the links are for (never selected).</param>
    /// <param name="max">Most links to keep.</param>
    /// <param name="selected">Receives the kept slots.</param>
    /// <param name="skipDeleted">Leave deleted nodes out.</param>
    /// <returns>The number kept.</returns>
    private static unsafe int SelectNeighbors(GraphStorage storage, ReadOnlySpan<long> candidates, int origin, int max, int[] selected, bool skipDeleted)
    {
        int count = 0;
        foreach (long key in candidates)
        {
            int candidate = Key.Slot(key);
            if (candidate == origin || (skipDeleted && storage.IsDeleted(candidate)))
            {
                continue;
            }

            int toOrigin = Key.Score(key);
            byte* vector = storage.Vector(candidate);
            bool keep = true;
            for (int j = 0; j < count; j++)
            {
                if (Dot(vector, storage.Vector(selected[j])) > toOrigin)
                {
                    keep = false;
                    break;
                }
            }

            if (keep)
            {
                selected[count++] = candidate;
                if (count == max)
                {
                    break;
                }
            }
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Dot(byte* a, byte* b) => VectorMath.Dot128(ref *(sbyte*)a, ref *(sbyte*)b);

    private static long PackEntry(int level, int slot) => ((long)level << 32) | (uint)slot;

    private static int EntryLevel(long entry) => (int)(entry >> 32);

    private static int EntrySlot(long entry) => (int)entry;
}
