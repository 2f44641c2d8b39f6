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

        int reader = EnterRead();
        var context = _contexts.Rent();
        try
        {
            // Slot count first, then storage: a storage read after the count holds every slot below it.
            int used = Volatile.Read(ref _nextSlot);
            var storage = _storage;
            used = Math.Min(used, storage.Capacity);
            context.Ensure(_m0, results.Length);
            byte* q = context.Query;
            Unsafe.CopyBlockUnaligned(ref *q, ref Unsafe.As<FaceVector, byte>(ref Unsafe.AsRef(in query)), GraphStorage.VectorBytes);
            var pool = context.Pool;
            int k = results.Length;
            pool.Reset(k);
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
                    if (pool.Admits(score))
                    {
                        pool.Insert(score, slot, deleted: false);
                    }
                }
            }

            return CopyResults(context, storage, results);
        }
        finally
        {
            _contexts.Return(context);
            ExitRead(reader);
        }
    }
}
