using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <inheritdoc />
    /// <remarks>
    /// Takes no lock and allocates nothing. Results are ordered by score descending (ties by
    /// the later insert first); the breadth used is max(ef or <see cref="IndexOptions.EfSearch"/>, results.Length).
    /// </remarks>
    public unsafe int Search(in FaceVector query, Span<Neighbor> results, int ef = 0)
    {
        if (results.IsEmpty)
        {
            return 0;
        }

        // Entry first, then storage: a storage read after the entry always holds the entry's slot.
        long entry = Volatile.Read(ref _entry);
        if (entry < 0)
        {
            return 0;
        }

        var storage = _storage;
        int breadth = Math.Max(ef > 0 ? ef : _options.EfSearch, results.Length);
        var context = _contexts.Rent();
        try
        {
            context.Ensure(_m0, breadth);
            byte* q = context.Query;
            Unsafe.CopyBlockUnaligned(ref *q, ref Unsafe.As<FaceVector, byte>(ref Unsafe.AsRef(in query)), GraphStorage.VectorBytes);

            int current = EntrySlot(entry);
            int currentScore = Dot(q, storage.Vector(current));
            for (int level = EntryLevel(entry); level > 0; level--)
            {
                current = Greedy(storage, q, current, ref currentScore, level);
            }

            bool liveOnly = Volatile.Read(ref _deleted) > 0 || _freeSlots.Count > 0;
            SearchLayer(context, storage, q, current, currentScore, breadth, 0, liveOnly);

            var heap = context.Results;
            while (heap.Count > results.Length)
            {
                heap.Pop();
            }

            int found = heap.Count;
            var ids = storage.Ids;
            for (int i = found - 1; i >= 0; i--)
            {
                long key = heap.Pop();
                results[i] = new Neighbor(ids[Key.Slot(key)], Key.Score(key));
            }

            return found;
        }
        finally
        {
            _contexts.Return(context);
        }
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
    /// Best-first search of one layer from one entry node (the paper's algorithm 2). Leaves the
    /// up to <paramref name="ef"/> best nodes in the context's result heap. With
    /// <paramref name="liveOnly"/>, deleted nodes are traversed but not returned.
    /// </summary>
    private static unsafe void SearchLayer(SearchContext context, GraphStorage storage, byte* query, int entry, int entryScore, int ef, int level, bool liveOnly)
    {
        var visited = context.BeginVisit(storage.Capacity, out ushort generation);
        var candidates = context.Candidates;
        var results = context.Results;
        var batch = context.Batch;
        candidates.Clear();
        results.Clear();

        visited[entry] = generation;
        long entryKey = Key.Pack(entryScore, entry);
        candidates.Push(entryKey);
        if (!liveOnly || !storage.IsDeleted(entry))
        {
            results.Push(entryKey);
        }

        int worst = results.Count > 0 ? entryScore : int.MinValue;
        while (candidates.Count > 0)
        {
            long best = candidates.Top;
            if (Key.Score(best) < worst && results.Count >= ef)
            {
                break;
            }

            candidates.Pop();
            int* list = storage.List(Key.Slot(best), level, out int capacity);

            // Collect the unvisited neighbours and prefetch their vectors before scoring any.
            int n = 0;
            for (int i = 0; i < capacity; i++)
            {
                int neighbour = list[i];
                if (neighbour < 0)
                {
                    break;
                }

                if (visited[neighbour] == generation)
                {
                    continue;
                }

                visited[neighbour] = generation;
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
                if (results.Count < ef || score > worst)
                {
                    long key = Key.Pack(score, neighbour);
                    candidates.Push(key);
                    if (!liveOnly || !storage.IsDeleted(neighbour))
                    {
                        if (results.Count < ef)
                        {
                            results.Push(key);
                        }
                        else
                        {
                            results.ReplaceTop(key);
                        }

                        worst = Key.Score(results.Top);
                    }
                }
            }
        }
    }
}
