using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>
    /// Removes the deleted vectors from the graph: every live node that links to a deleted one
    /// gets its list rebuilt (by the selection heuristic) from its live links and the live nodes
    /// reachable through its deleted links, then the deleted slots are freed for reuse.
    /// Runs on all cores; waits for running adds and removes, and blocks new ones meanwhile
    /// (searches go on). Called automatically when <see cref="IndexOptions.RepairThreshold"/> is passed.
    /// </summary>
    public void Repair()
    {
        _structureLock.EnterWriteLock();
        try
        {
            if (_deleted == 0)
            {
                return;
            }

            var storage = _storage;
            int used = _nextSlot;
            var free = new bool[used];
            foreach (int slot in _freeSlots)
            {
                free[slot] = true;
            }

            Parallel.For(
                0,
                used,
                () => new RepairScratch(_m0),
                (slot, _, scratch) =>
                {
                    if (!free[slot] && !storage.IsDeleted(slot))
                    {
                        RepairNode(storage, slot, scratch);
                    }

                    return scratch;
                },
                static _ => { });

            int top = -1;
            int topLevel = -1;
            for (int slot = 0; slot < used; slot++)
            {
                if (free[slot])
                {
                    continue;
                }

                if (storage.IsDeleted(slot))
                {
                    FreeSlot(storage, slot);
                }
                else if (storage.LevelOf(slot) > topLevel)
                {
                    topLevel = storage.LevelOf(slot);
                    top = slot;
                }
            }

            long entry = storage.Entry;
            if (entry >= 0 && storage.IsDeleted(EntrySlot(entry)))
            {
                Volatile.Write(ref storage.Entry, top < 0 ? -1 : PackEntry(topLevel, top));
            }

            _deleted = 0;
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }

    private unsafe void RepairNode(GraphStorage storage, int slot, RepairScratch scratch)
    {
        int levels = storage.LevelOf(slot);
        for (int level = 0; level <= levels; level++)
        {
            int* list = storage.List(slot, level, out int capacity);
            bool touched = false;
            for (int i = 0; i < capacity && list[i] >= 0; i++)
            {
                if (storage.IsDeleted(list[i]))
                {
                    touched = true;
                    break;
                }
            }

            if (!touched)
            {
                continue;
            }

            // Candidates: live links, and live nodes up to two hops through deleted links.
            scratch.Clear();
            for (int i = 0; i < capacity && list[i] >= 0; i++)
            {
                int neighbour = list[i];
                if (!storage.IsDeleted(neighbour))
                {
                    scratch.Add(neighbour);
                    continue;
                }

                int* second = storage.List(neighbour, level, out int secondCapacity);
                for (int j = 0; j < secondCapacity && second[j] >= 0; j++)
                {
                    int hop = second[j];
                    if (!storage.IsDeleted(hop))
                    {
                        scratch.Add(hop);
                        continue;
                    }

                    int* third = storage.List(hop, level, out int thirdCapacity);
                    for (int k = 0; k < thirdCapacity && third[k] >= 0; k++)
                    {
                        if (!storage.IsDeleted(third[k]))
                        {
                            scratch.Add(third[k]);
                        }
                    }
                }
            }

            byte* origin = storage.Vector(slot);
            var keys = scratch.Keys(out int count);
            for (int i = 0; i < count; i++)
            {
                int candidate = (int)keys[i];
                keys[i] = Key.Pack(Dot(origin, storage.Vector(candidate)), candidate);
            }

            var sorted = keys.AsSpan(0, count);
            sorted.Sort();
            sorted.Reverse();
            int kept = SelectNeighbors(storage, sorted, slot, capacity, scratch.Selected, skipDeleted: true);
            StoreList(list, capacity, scratch.Selected.AsSpan(0, kept));
        }
    }

    /// <summary>Clears a deleted slot's links and puts it on the free list; its tombstone stays set until reuse.</summary>
    private unsafe void FreeSlot(GraphStorage storage, int slot)
    {
        storage.ClearBaseList(slot);
        storage.Upper.Free(slot);
        _freeSlots.Push(slot);
    }

    /// <summary>Per-thread candidate set of a repair: a list with linear de-duplication (a few dozen entries).</summary>
    private sealed class RepairScratch(int maxLinks)
    {
        private long[] _keys = new long[maxLinks * 4];
        private int _count;

        public int[] Selected { get; } = new int[maxLinks + 1];

        public void Clear() => _count = 0;

        public void Add(int slot)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_keys[i] == slot)
                {
                    return;
                }
            }

            if (_count == _keys.Length)
            {
                Array.Resize(ref _keys, _keys.Length * 2);
            }

            _keys[_count++] = slot;
        }

        public long[] Keys(out int count)
        {
            count = _count;
            return _keys;
        }
    }
}
