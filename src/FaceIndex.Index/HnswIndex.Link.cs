using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>Links the node in <paramref name="slot"/> (vector already written) into every layer up to its level.</summary>
    private unsafe void Link(GraphStorage storage, int slot, int level)
    {
        long entry = Volatile.Read(ref storage.Entry);
        if (entry < 0)
        {
            lock (_entryLock)
            {
                if (storage.Entry < 0)
                {
                    Volatile.Write(ref storage.Entry, PackEntry(level, slot));
                    return;
                }
            }

            entry = Volatile.Read(ref storage.Entry);
        }

        // A node that rises above the current top level holds the entry lock for its whole insert,
        // so that no other node becomes the entry point meanwhile.
        bool holdsEntry = false;
        if (level > EntryLevel(entry))
        {
            _entryLock.Enter();
            holdsEntry = true;
            entry = storage.Entry;
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
                int found = context.Pool.CopyLive(context.Keys);
                var keys = context.Keys.AsSpan(0, found);
                if (found > 0)
                {
                    current = Key.Slot(keys[0]);
                    currentScore = Key.Score(keys[0]);
                }

                // A new node takes as many links as its layer holds (2·M on the base layer, as FAISS does;
                // hnswlib takes M everywhere): the heuristic keeps them diverse, and the fuller base
                // lists buy recall at a given ef for more than the distances they add.
                int maxLinks = l == 0 ? _m0 : _m;
                int chosenCount = SelectNeighbors(storage, keys, slot, maxLinks, context.Chosen, skipDeleted: true);
                var chosen = context.Chosen.AsSpan(0, chosenCount);
                WriteOwnList(context, storage, slot, l, chosen, maxLinks);
                foreach (int neighbour in chosen)
                {
                    Connect(context, storage, neighbour, slot, l, maxLinks);
                }
            }

            if (holdsEntry)
            {
                Volatile.Write(ref storage.Entry, PackEntry(level, slot));
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

    /// <summary>
    /// Writes the new node's own list at <paramref name="level"/>, keeping the links that other inserts
    /// added to it meanwhile. A node is linked from its upper layers down, so another thread can reach
    /// it on an upper layer, descend into it while its base list is still empty, choose it as its only
    /// neighbour and link itself into that list; overwriting the list then left that other node with no
    /// incoming link at all (found by HnswReachabilityTests: 0–10 of 2,000 rows per two-thread build).
    /// </summary>
    private unsafe void WriteOwnList(SearchContext context, GraphStorage storage, int slot, int level, ReadOnlySpan<int> chosen, int maxLinks)
    {
        lock (StripeOf(slot))
        {
            int* list = storage.List(slot, level, out int capacity);
            int present = LinkCount(list, capacity);

            if (present == 0)
            {
                StoreList(list, capacity, chosen);
                return;
            }

            // Union of what is there and what was chosen; pruned by the heuristic only when it does not fit.
            var merged = context.Selected.AsSpan();
            int count = 0;
            foreach (int link in chosen)
            {
                merged[count++] = link;
            }

            for (int i = 0; i < present && count < merged.Length; i++)
            {
                if (!merged[..count].Contains(list[i]))
                {
                    merged[count++] = list[i];
                }
            }

            if (count <= maxLinks)
            {
                StoreList(list, capacity, merged[..count]);
                return;
            }

            byte* origin = storage.Vector(slot);
            var keys = context.Keys.AsSpan(0, count);
            for (int i = 0; i < count; i++)
            {
                keys[i] = Key.Pack(Dot(origin, storage.Vector(merged[i])), merged[i]);
            }

            keys.Sort();
            keys.Reverse();
            int selected = SelectNeighbors(storage, keys, slot, maxLinks, context.Selected, skipDeleted: true);
            StoreList(list, capacity, context.Selected.AsSpan(0, selected));
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
            if (Sse.IsSupported)
            {
                // The list's vectors are mostly not in cache: fetch them all before scoring the first.
                for (int i = 0; i < count; i++)
                {
                    byte* v = storage.Vector(list[i]);
                    Sse.Prefetch0(v);
                    Sse.Prefetch0(v + 64);
                }
            }

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

    /// <summary>The links in a list: up to its terminator (−1) or its capacity.</summary>
    private static unsafe int LinkCount(int* list, int capacity)
    {
        int count = 0;
        while (count < capacity && list[count] >= 0)
        {
            count++;
        }

        return count;
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
    /// <remarks>
    /// A candidate is redundant only when a kept neighbour scores strictly higher with it than the
    /// origin does. Ties decide duplicates (one face enrolled under several ids): a copy of the
    /// origin never makes another candidate redundant (it scores exactly as the origin would), so a
    /// face and its copy keep their own spread-out links and stay reachable from the rest; and a
    /// copy of a kept neighbour is redundant (it scores higher with that neighbour than with the
    /// origin). Copies of the origin itself take at most half of a list, so that a face enrolled
    /// many times does not fill its lists with copies and cut the copies off from everything else.
    /// </remarks>
    /// <param name="storage">The graph.</param>
    /// <param name="candidates">Keys scored against the origin, best first.</param>
    /// <param name="origin">The node the links are for (never selected).</param>
    /// <param name="max">Most links to keep.</param>
    /// <param name="selected">Receives the kept slots.</param>
    /// <param name="skipDeleted">Leave deleted nodes out.</param>
    /// <returns>The number kept.</returns>
    private static unsafe int SelectNeighbors(GraphStorage storage, ReadOnlySpan<long> candidates, int origin, int max, int[] selected, bool skipDeleted)
    {
        byte* originVector = storage.Vector(origin);
        int selfScore = Dot(originVector, originVector);
        bool mayHaveCopies = false;
        foreach (long key in candidates)
        {
            mayHaveCopies |= Key.Score(key) == selfScore;
        }

        int count = mayHaveCopies ? SelectCopies(storage, candidates, origin, originVector, selfScore, max / 2, selected, skipDeleted) : 0;
        foreach (long key in candidates)
        {
            if (count == max)
            {
                break;
            }

            int candidate = Key.Slot(key);
            if (candidate == origin || (skipDeleted && storage.IsDeleted(candidate)))
            {
                continue;
            }

            int toOrigin = Key.Score(key);
            byte* vector = storage.Vector(candidate);
            if (mayHaveCopies && toOrigin == selfScore && IsCopy(vector, originVector))
            {
                continue; // chosen (or left out) by SelectCopies
            }

            bool keep = true;
            int j = 0;
            if (count >= 4)
            {
                // Four kept neighbours per kernel call: the candidate's blocks are loaded once for the four.
                var bound = Vector128.Create(toOrigin);
                for (; j + 4 <= count; j += 4)
                {
                    var scores = VectorMath.Dot128x4(
                        ref *(sbyte*)vector,
                        ref *(sbyte*)storage.Vector(selected[j]),
                        ref *(sbyte*)storage.Vector(selected[j + 1]),
                        ref *(sbyte*)storage.Vector(selected[j + 2]),
                        ref *(sbyte*)storage.Vector(selected[j + 3]));
                    if (Vector128.GreaterThanAny(scores, bound))
                    {
                        keep = false;
                        break;
                    }
                }
            }

            for (; keep && j < count; j++)
            {
                if (Dot(vector, storage.Vector(selected[j])) > toOrigin)
                {
                    keep = false;
                }
            }

            if (keep)
            {
                selected[count++] = candidate;
            }
        }

        return count;
    }

    /// <summary>
    /// Picks the copies of the origin among the candidates: all of them up to <paramref name="cap"/>,
    /// else the <paramref name="cap"/> nearest in slot order. Nearest by slot links each copy to the
    /// copies inserted just before and after it, a chain through all of them, so that every copy of
    /// a face enrolled many times keeps incoming links and is found.
    /// </summary>
    /// <returns>The number written to the start of <paramref name="selected"/>.</returns>
    private static unsafe int SelectCopies(GraphStorage storage, ReadOnlySpan<long> candidates, int origin, byte* originVector, int selfScore, int cap, int[] selected, bool skipDeleted)
    {
        var copies = new List<int>();
        foreach (long key in candidates)
        {
            int candidate = Key.Slot(key);
            if (candidate != origin && Key.Score(key) == selfScore && !(skipDeleted && storage.IsDeleted(candidate))
                && IsCopy(storage.Vector(candidate), originVector))
            {
                copies.Add(candidate);
            }
        }

        if (copies.Count > cap)
        {
            copies.Sort((a, b) => Math.Abs((long)a - origin).CompareTo(Math.Abs((long)b - origin)));
        }

        int count = Math.Min(cap, copies.Count);
        copies.CopyTo(0, selected, 0, count);
        return count;
    }

    /// <summary>Whether two stored vectors are byte for byte the same.</summary>
    private static unsafe bool IsCopy(byte* a, byte* b) =>
        new ReadOnlySpan<byte>(a, FaceVector.Dimensions).SequenceEqual(new ReadOnlySpan<byte>(b, FaceVector.Dimensions));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Dot(byte* a, byte* b) => VectorMath.Dot128(ref *(sbyte*)a, ref *(sbyte*)b);

    private static long PackEntry(int level, int slot) => ((long)level << 32) | (uint)slot;

    private static int EntryLevel(long entry) => (int)(entry >> 32);

    private static int EntrySlot(long entry) => (int)entry;
}
