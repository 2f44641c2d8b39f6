using System.Numerics;
using System.Runtime.CompilerServices;
using FaceIndex.Core;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>
    /// The exact up to <c>results.Length</c> nearest live vectors: a SIMD scan of the index's own
    /// vector block (no second copy of the vectors), skipping deleted, free and not yet published
    /// slots. For small collections, where a scan beats the graph, and as a check of
    /// <see cref="Search"/>.
    /// </summary>
    /// <remarks>
    /// Takes no lock and allocates nothing, like <see cref="Search"/>, and orders results the same
    /// way: score descending, ties by the later insert (the higher slot) first. A vector added or
    /// removed while the scan runs may or may not be seen.
    /// </remarks>
    /// <returns>The number of results written: min(results.Length, live vectors).</returns>
    public unsafe int SearchExact(in FaceVector query, Span<Neighbor> results)
    {
        if (results.IsEmpty)
        {
            return 0;
        }

        // Slot count first, then storage: a storage read after the count holds every slot below it.
        int used = Volatile.Read(ref _nextSlot);
        var storage = _storage;
        used = Math.Min(used, storage.Capacity);
        var context = _contexts.Rent();
        try
        {
            byte* q = context.Query;
            Unsafe.CopyBlockUnaligned(ref *q, ref Unsafe.As<FaceVector, byte>(ref Unsafe.AsRef(in query)), GraphStorage.VectorBytes);
            var heap = context.Results;
            heap.Clear();
            int k = results.Length;
            int worst = int.MinValue;
            var tombstones = storage.Tombstones;
            for (int word = 0; word * 64 < used; word++)
            {
                ulong live = ~Volatile.Read(ref tombstones[word]);
                int rest = used - (word * 64);
                if (rest < 64)
                {
                    live &= (1UL << rest) - 1;
                }

                while (live != 0)
                {
                    int slot = (word * 64) + BitOperations.TrailingZeroCount(live);
                    live &= live - 1;
                    int score = Dot(q, storage.Vector(slot));
                    if (score < worst)
                    {
                        continue;
                    }

                    long key = Key.Pack(score, slot);
                    if (heap.Count < k)
                    {
                        heap.Push(key);
                        if (heap.Count == k)
                        {
                            worst = Key.Score(heap.Top);
                        }
                    }
                    else if (key > heap.Top)
                    {
                        heap.ReplaceTop(key);
                        worst = Key.Score(heap.Top);
                    }
                }
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
}
