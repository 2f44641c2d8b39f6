using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>
    /// During a parallel AddRange, one byte per slot: 1 where <see cref="Connect"/> wrote to the slot's base
    /// list (null otherwise). A slot past its end (the storage grew meanwhile) marks the last byte 2: scan all.
    /// </summary>
    private byte[]? _touched;

    /// <summary>Incoming links given to an unreachable node.</summary>
    private const int OrphanLinks = 3;

    /// <summary>Nodes of a parallel batch with at most this many incoming base links are checked by a search.</summary>
    private const int MaxCheckedInDegree = 2;

    private long _orphansLinked;
    private long _orphansChecked;

    /// <summary>Diagnostics: nodes of parallel batches with few incoming links (<see cref="MaxCheckedInDegree"/>), checked by a search.</summary>
    internal long OrphansChecked => Interlocked.Read(ref _orphansChecked);

    /// <summary>Diagnostics: nodes that a parallel insert left without an incoming base link, linked afterwards.</summary>
    internal long OrphansLinked => Interlocked.Read(ref _orphansLinked);

    /// <summary>Records that <paramref name="slot"/>'s base list was written (the last byte: past the end, scan all).</summary>
    private static void MarkTouched(byte[] touched, int slot)
    {
        if ((uint)slot < (uint)(touched.Length - 1))
        {
            touched[slot] = 1;
        }
        else
        {
            touched[^1] = 2;
        }
    }

    /// <summary>
    /// Makes every node of a parallel batch reachable: one that no base-layer list links to, or that a
    /// search for its own vector does not find, gets a link from where that search ends.
    /// </summary>
    /// <remarks>
    /// Two near vectors inserted at the same time do not find each other (neither is linked yet when the
    /// other searches), and when both link to the same full list, the heuristic prune keeps the one and
    /// drops the other as redundant; a serial insert of the second would have linked it to the first.
    /// The node is then in the graph but reachable from nowhere: 0–3 of 20,000 GENERATOR rows per
    /// two-thread build. Only lists written during the batch can link to its nodes (its own lists and
    /// those that <see cref="Connect"/> touched), so their in-degrees are counted exactly from those.
    /// Nodes with at most <see cref="MaxCheckedInDegree"/> incoming links are searched for with their own
    /// vector at the default ef; one not found is linked from the <see cref="OrphanLinks"/> best nodes
    /// that search ends with, into free room or in place of a node that keeps another incoming link.
    /// Runs under the exclusive structure lock (searches go on: each change is one atomic write of a
    /// list entry).
    /// </remarks>
    private unsafe void LinkOrphans(ReadOnlySpan<long> ids, byte[] touched)
    {
        if (ids.IsEmpty)
        {
            return;
        }

        _structureLock.EnterWriteLock();
        try
        {
            var storage = _storage;
            var inDegree = new Dictionary<int, int>(ids.Length);
            foreach (long id in ids)
            {
                if (_idMap.TryGet(id, storage.Ids, out int slot) && !storage.IsDeleted(slot))
                {
                    inDegree[slot] = 0;
                }
            }

            bool all = touched.Length == 0 || touched[^1] == 2;
            var scan = new HashSet<int>(inDegree.Keys);
            for (int slot = 0; slot < SlotsInUse; slot++)
            {
                if (all || (slot < touched.Length && touched[slot] != 0))
                {
                    scan.Add(slot);
                }
            }

            foreach (int slot in scan)
            {
                int* list = storage.List(slot, 0, out int capacity);
                for (int i = 0; i < capacity && list[i] >= 0; i++)
                {
                    if (list[i] != slot && inDegree.TryGetValue(list[i], out int degree))
                    {
                        inDegree[list[i]] = degree + 1;
                    }
                }
            }

            int entry = Volatile.Read(ref storage.Entry) is >= 0 and var e ? EntrySlot(e) : -1;
            int[]? allInDegrees = null;
            foreach (var (slot, degree) in inDegree)
            {
                // No incoming link: unreachable. One or two: reachable only through those, which a
                // search may pass by (two near nodes of the batch linked only to each other are an
                // island); checked by a search at the default ef.
                if (slot == entry || degree > MaxCheckedInDegree)
                {
                    continue;
                }

                var reached = ReachedBy(storage, slot, out bool found);
                _orphansChecked++;
                if (found)
                {
                    continue;
                }

                // Rare (a few per 10,000 inserts): every node's incoming links, counted once per batch.
                allInDegrees ??= CountInDegrees(storage);
                if (LinkFromNearest(storage, slot, reached, allInDegrees))
                {
                    _orphansLinked++;
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
    /// The live nodes (the orphan left out) that a search for the orphan's vector at EfSearch ends
    /// with, best first, and whether the orphan was among them. Linked from the first of them that can
    /// take it, the orphan lies where that search passes.
    /// </summary>
    private unsafe List<int> ReachedBy(GraphStorage storage, int orphan, out bool found)
    {
        found = false;
        var reached = new List<int>();
        long entry = Volatile.Read(ref storage.Entry);
        if (entry < 0)
        {
            return reached;
        }

        var context = _contexts.Rent();
        try
        {
            int ef = Math.Max(_options.EfSearch, OrphanLinks + 1);
            context.Ensure(_m0, ef);
            SearchFromEntry(context, storage, storage.Vector(orphan), entry, ef, liveOnly: true);
            int live = context.Pool.CopyLive(context.Keys);
            foreach (long key in context.Keys.AsSpan(0, live))
            {
                if (Key.Slot(key) != orphan)
                {
                    reached.Add(Key.Slot(key));
                }
                else
                {
                    found = true;
                }
            }

            return reached;
        }
        finally
        {
            _contexts.Return(context);
        }
    }
}
