using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <inheritdoc />
    /// <remarks>
    /// Takes no lock and allocates nothing; a repair never frees a slot while a search that may
    /// read it runs (see <see cref="EnterRead"/>). Results are ordered by score descending, ties by the
    /// higher slot first (the later insert, unless slots were reused); the breadth used is
    /// max(ef or <see cref="IndexOptions.EfSearch"/>, results.Length).
    /// </remarks>
    public unsafe int Search(in FaceVector query, Span<Neighbor> results, int ef = 0)
    {
        if (results.IsEmpty)
        {
            return 0;
        }

        // Announced before the first read of the graph: no slot this search may reach is freed before it ends.
        int reader = EnterRead();
        var context = _contexts.Rent();
        try
        {
            // One read of the storage: its entry point, slots and ids belong together.
            var storage = _storage;
            long entry = Volatile.Read(ref storage.Entry);
            if (entry < 0)
            {
                return 0;
            }

            int breadth = Math.Max(ef > 0 ? ef : _options.EfSearch, results.Length);
            context.Ensure(_m0, breadth);
            byte* q = context.Query;
            Unsafe.CopyBlockUnaligned(ref *q, ref Unsafe.As<FaceVector, byte>(ref Unsafe.AsRef(in query)), GraphStorage.VectorBytes);

            bool liveOnly = Volatile.Read(ref _deleted) > 0 || _freeSlots.Count > 0;
            SearchFromEntry(context, storage, q, entry, breadth, liveOnly);
            return CopyResults(context, storage, results);
        }
        finally
        {
            _contexts.Return(context);
            ExitRead(reader);
        }
    }

    /// <summary>
    /// Descends greedily from <paramref name="entry"/> through the upper layers, then searches the base
    /// layer with breadth <paramref name="ef"/>: the context's pool holds the result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SearchFromEntry(SearchContext context, GraphStorage storage, byte* query, long entry, int ef, bool liveOnly)
    {
        int current = EntrySlot(entry);
        int currentScore = Dot(query, storage.Vector(current));
        for (int level = EntryLevel(entry); level > 0; level--)
        {
            current = Greedy(storage, query, current, ref currentScore, level);
        }

        SearchLayer(context, storage, query, current, currentScore, ef, 0, liveOnly);
    }

    /// <summary>Writes the live candidates of the context's pool, best first, to <paramref name="results"/> as ids.</summary>
    /// <returns>The number written.</returns>
    private static int CopyResults(SearchContext context, GraphStorage storage, Span<Neighbor> results)
    {
        var keys = context.Keys.AsSpan(0, results.Length);
        int found = context.Pool.CopyLive(keys);
        var ids = storage.Ids;
        for (int i = 0; i < found; i++)
        {
            results[i] = new Neighbor(ids[Key.Slot(keys[i])], Key.Score(keys[i]));
        }

        return found;
    }

    /// <summary>Greedy descent on one upper layer: moves to a better neighbour until none is better.</summary>
    private static unsafe int Greedy(GraphStorage storage, byte* query, int current, ref int currentScore, int level)
    {
        bool moved = true;
        while (moved)
        {
            moved = false;
            int* list = storage.List(current, level, out int capacity);
            for (int i = 0; i < capacity; i++)
            {
                int neighbour = list[i];
                if (neighbour < 0)
                {
                    break;
                }

                int score = Dot(query, storage.Vector(neighbour));
                if (score > currentScore)
                {
                    currentScore = score;
                    current = neighbour;
                    moved = true;
                }
            }
        }

        return current;
    }

    /// <summary>
    /// Best-first search of one layer from one entry node (the paper's algorithm 2, over a
    /// <see cref="CandidatePool"/>). Leaves the up to <paramref name="ef"/> best nodes in the
    /// context's pool. With <paramref name="liveOnly"/>, deleted nodes are traversed but not returned.
    /// </summary>
    /// <remarks>
    /// The search is bound by memory latency, not arithmetic: a node's list and its neighbours'
    /// vectors are usually not in cache. So the list of the node most likely expanded next (the
    /// best unexpanded one now) is prefetched before this node's neighbours are scored, and the
    /// vectors of all the unvisited neighbours are prefetched before the first is scored.
    /// </remarks>
    private static unsafe void SearchLayer(SearchContext context, GraphStorage storage, byte* query, int entry, int entryScore, int ef, int level, bool liveOnly)
    {
        var visited = context.Visited;
        visited.Reserve(storage.Capacity);
        var pool = context.Pool;
        var batch = context.Batch;
        pool.Reset(ef);
        visited.Add(entry);
        pool.Insert(entryScore, entry, liveOnly && storage.IsDeleted(entry));
        while (pool.TryNext(out int node))
        {
            int* list = storage.List(node, level, out int capacity);
            int next = pool.PeekNext();
            if (next >= 0 && level == 0 && Sse.IsSupported)
            {
                byte* nextList = (byte*)storage.BaseList(next);
                Sse.Prefetch0(nextList);
                Sse.Prefetch0(nextList + 64);
            }

            int n = 0;
            for (int i = 0; i < capacity; i++)
            {
                int neighbour = list[i];
                if (neighbour < 0)
                {
                    break;
                }

                if (!visited.Add(neighbour))
                {
                    continue;
                }

                batch[n++] = neighbour;
                if (Sse.IsSupported)
                {
                    byte* v = storage.Vector(neighbour);
                    Sse.Prefetch0(v);
                    Sse.Prefetch0(v + 64);
                }
            }

            for (int j = 0; j < n; j++)
            {
                int neighbour = batch[j];
                int score = Dot(query, storage.Vector(neighbour));
                if (pool.Admits(score))
                {
                    pool.Insert(score, neighbour, liveOnly && storage.IsDeleted(neighbour));
                }
            }
        }

        visited.Clear();
    }
}
