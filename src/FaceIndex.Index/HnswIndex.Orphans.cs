using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>Incoming links given to an unreachable node.</summary>
    private const int OrphanLinks = 3;

    /// <summary>The beam of the first, cheap search for each node of a parallel batch.</summary>
    private const int QuickCheckEf = 16;

    private long _orphansLinked;
    private long _orphansChecked;

    /// <summary>Diagnostics: nodes of parallel batches checked by a search for their own vector.</summary>
    internal long OrphansChecked => Interlocked.Read(ref _orphansChecked);

    /// <summary>Diagnostics: nodes that a parallel insert left unreachable, linked afterwards.</summary>
    internal long OrphansLinked => Interlocked.Read(ref _orphansLinked);

    /// <summary>
    /// Makes every node of a parallel batch reachable: each is searched for with its own vector at the
    /// default ef, and one that the search does not find gets links from where that search ends.
    /// </summary>
    /// <remarks>
    /// Near vectors inserted at the same time do not find each other (neither is linked yet when the
    /// other searches), and when they link to the same full list, the heuristic prune keeps one and
    /// drops the others as redundant; a serial insert would have linked them to each other. A node can
    /// then be in the graph but reachable from nowhere (0–3 of 20,000 GENERATOR rows per two-thread
    /// build), and a group of near nodes (GENERATOR's ten photos of one person) can end up linked only
    /// among itself: an island whose members each have several incoming links (1 of 2,000 rows in about
    /// one four-thread build in sixteen, when only nodes with at most two incoming links were checked).
    /// So every node of the batch is checked, by searches run in parallel (read-only, as concurrent
    /// searches are; at ef 16 first, at the default ef when that misses); the ones not found are linked one at a time, each searched for again first (linking
    /// one member of an island usually makes the others reachable). A node is linked from the
    /// <see cref="OrphanLinks"/> best nodes its search ends with, into free room or in place of a node
    /// that keeps another incoming link. Runs under the exclusive structure lock (searches go on: each
    /// change is one atomic write of a list entry).
    /// </remarks>
    private void LinkOrphans(ReadOnlySpan<long> ids, int maxDegreeOfParallelism)
    {
        if (ids.IsEmpty)
        {
            return;
        }

        _structureLock.EnterWriteLock();
        try
        {
            var storage = _storage;
            int entry = Volatile.Read(ref storage.Entry) is >= 0 and var e ? EntrySlot(e) : -1;
            var slots = new List<int>(ids.Length);
            foreach (long id in ids)
            {
                if (_idMap.TryGet(id, storage.Ids, out int slot) && !storage.IsDeleted(slot) && slot != entry)
                {
                    slots.Add(slot);
                }
            }

            var missed = new System.Collections.Concurrent.ConcurrentBag<int>();
            Parallel.ForEach(
                System.Collections.Concurrent.Partitioner.Create(0, slots.Count, 256),
                new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
                range =>
                {
                    for (int i = range.Item1; i < range.Item2; i++)
                    {
                        // A node found at a small ef is found at any larger one (the same descent, a
                        // wider beam): the cheap search settles nearly all, the default ef the rest.
                        if (!FoundBySearch(storage, slots[i], reached: null, QuickCheckEf) && !FoundBySearch(storage, slots[i], reached: null))
                        {
                            missed.Add(slots[i]);
                        }
                    }
                });
            Interlocked.Add(ref _orphansChecked, slots.Count);

            int[]? inDegrees = null;
            foreach (int slot in missed.Order())
            {
                var reached = new List<int>();
                if (FoundBySearch(storage, slot, reached))
                {
                    continue;
                }

                // Rare (a few per 10,000 inserts): every node's incoming links, counted once per batch.
                inDegrees ??= CountInDegrees(storage);
                if (LinkFromNearest(storage, slot, reached, inDegrees))
                {
                    Interlocked.Increment(ref _orphansLinked);
                }
            }
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }

    /// <summary>Incoming base-layer links of every slot.</summary>
    private unsafe int[] CountInDegrees(GraphStorage storage)
    {
        int slots = SlotsInUse;
        var degrees = new int[slots];
        for (int slot = 0; slot < slots; slot++)
        {
            int* list = storage.List(slot, 0, out int capacity);
            for (int i = 0; i < capacity && list[i] >= 0; i++)
            {
                degrees[list[i]]++;
            }
        }

        return degrees;
    }

    /// <summary>
    /// Links <paramref name="orphan"/> from the best <see cref="OrphanLinks"/> nodes that a search for its
    /// vector reaches and that can take it (one alone left a search at a lower ef passing by); false when none can. A full list gives up a node that the orphan links to, else a node with
    /// another incoming link: no node is orphaned in turn.
    /// </summary>
    private unsafe bool LinkFromNearest(GraphStorage storage, int orphan, List<int> neighbours, int[] inDegrees)
    {
        int* own = storage.List(orphan, 0, out int ownCapacity);
        int ownCount = LinkCount(own, ownCapacity);

        var ownLinks = new ReadOnlySpan<int>(own, ownCount);
        int linked = 0;
        foreach (int neighbour in neighbours)
        {
            if (linked == OrphanLinks)
            {
                break;
            }

            int* list = storage.List(neighbour, 0, out int capacity);
            int count = LinkCount(list, capacity);

            if (count < capacity)
            {
                if (count + 1 < capacity)
                {
                    list[count + 1] = -1;
                }

                inDegrees[orphan]++;
                Volatile.Write(ref list[count], orphan);
                linked++;
                continue;
            }

            int replaced = -1;
            for (int i = count - 1; i >= 0 && replaced < 0; i--)
            {
                if (list[i] != orphan && ownLinks.Contains(list[i]))
                {
                    replaced = i;
                }
            }

            for (int i = 0; i < count && replaced < 0; i++)
            {
                if (list[i] != orphan && inDegrees[list[i]] >= 2)
                {
                    replaced = i;
                }
            }

            if (replaced >= 0)
            {
                inDegrees[list[replaced]]--;
                inDegrees[orphan]++;
                Volatile.Write(ref list[replaced], orphan);
                linked++;
            }
        }

        return linked > 0;
    }

    /// <summary>
    /// Whether a search for the orphan's vector at <paramref name="ef"/> (0: EfSearch) finds it; when <paramref name="reached"/> is
    /// given, it receives the live nodes (the orphan left out) that the search ends with, best first.
    /// Linked from the first of them that can take it, the orphan lies where that search passes.
    /// </summary>
    private unsafe bool FoundBySearch(GraphStorage storage, int orphan, List<int>? reached, int ef = 0)
    {
        long entry = Volatile.Read(ref storage.Entry);
        if (entry < 0)
        {
            return false;
        }

        var context = _contexts.Rent();
        try
        {
            ef = Math.Max(ef > 0 ? ef : _options.EfSearch, OrphanLinks + 1);
            context.Ensure(_m0, ef);
            SearchFromEntry(context, storage, storage.Vector(orphan), entry, ef, liveOnly: true);
            int live = context.Pool.CopyLive(context.Keys);
            bool found = false;
            foreach (long key in context.Keys.AsSpan(0, live))
            {
                if (Key.Slot(key) == orphan)
                {
                    found = true;
                }
                else
                {
                    reached?.Add(Key.Slot(key));
                }
            }

            return found;
        }
        finally
        {
            _contexts.Return(context);
        }
    }
}
