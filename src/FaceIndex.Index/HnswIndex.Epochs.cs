using System.Runtime.CompilerServices;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>Reader counter cells per epoch parity (threads spread over them by managed thread id).</summary>
    private const int ReaderStripes = 32;

    /// <summary>Longs between two counters: one 64-byte cache line each, so that searches on different threads do not share one.</summary>
    private const int ReaderCellStride = 8;

    /// <summary>
    /// Searches in progress, counted per parity of the epoch they read when they began:
    /// cell <c>((stripe · 2) + parity) · stride</c>.
    /// </summary>
    private readonly long[] _readers = new long[ReaderStripes * 2 * ReaderCellStride];

    /// <summary>Raised once per repair round, after the round's lists are rewritten and before its slots may be freed.</summary>
    private long _epoch;

    /// <summary>
    /// Announces a lock-free search; returns its counter cell, to pass to <see cref="ExitRead"/>.
    /// Call before the first read of the graph.
    /// </summary>
    /// <remarks>
    /// The grace period of the repair: a round rewrites the lists that lead to its slots, raises the
    /// epoch, and frees the slots only when no search counted under the old parity is left. A search
    /// counted under the new parity read the epoch after the lists were rewritten (the increment and
    /// the counter update are full fences), so it cannot reach the retired slots; one that read the
    /// old epoch but was counted only after the repair found the old parity empty is ordered after
    /// that check, hence after the rewrite, and cannot reach them either. At most one round's slots
    /// wait at a time, so the two parities suffice.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int EnterRead()
    {
        int parity = (int)(Volatile.Read(ref _epoch) & 1);
        int cell = ((((Environment.CurrentManagedThreadId & (ReaderStripes - 1)) * 2) + parity) * ReaderCellStride);
        Interlocked.Increment(ref _readers[cell]);
        return cell;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExitRead(int cell) => Interlocked.Decrement(ref _readers[cell]);

    /// <summary>Whether no search counted under <paramref name="parity"/> is running.</summary>
    private bool ReadersDrained(int parity)
    {
        for (int stripe = 0; stripe < ReaderStripes; stripe++)
        {
            if (Volatile.Read(ref _readers[((stripe * 2) + parity) * ReaderCellStride]) != 0)
            {
                return false;
            }
        }

        return true;
    }
}
