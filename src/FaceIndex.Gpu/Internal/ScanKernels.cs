using ILGPU;

namespace FaceIndex.Gpu.Internal;

/// <summary>The sizes one launch of <see cref="ScanKernels"/> works on (passed by value to the kernels).</summary>
internal struct ScanShape
{
    /// <summary>Queries in this launch.</summary>
    public int Queries;

    /// <summary>Vectors in the corpus.</summary>
    public int Corpus;

    /// <summary>Results per query.</summary>
    public int K;

    /// <summary>The lowest score kept.</summary>
    public int MinScore;

    /// <summary>Corpus vectors per slice, a multiple of <see cref="ScanKernels.TileVectors"/>.</summary>
    public int SliceLength;

    /// <summary>Slices the corpus is cut into; each (query, slice) gets its own partial list.</summary>
    public int Slices;

    /// <summary>1 when each query has an id to skip (its own, in an all-pairs scan).</summary>
    public int Excludes;
}

/// <summary>
/// The GPU kernels of the exact scan. <see cref="Scan"/>: a group of threads takes a block of
/// queries (one per thread, its code in registers) through one slice of the corpus, staged tile
/// by tile in shared memory, so that every thread of a warp reads the same corpus word at once
/// (a broadcast); each thread keeps its query's top-k of the slice sorted in global memory,
/// where insertions are rare once the list is full. <see cref="Merge"/>: one thread per query
/// merges the slices' lists. Order: score descending, equal scores by the smaller id, exactly
/// as the CPU scan.
/// </summary>
internal static class ScanKernels
{
    /// <summary>Packed 32-bit words per code.</summary>
    public const int Words = 32;

    /// <summary>Corpus vectors staged in shared memory at a time (8 KiB).</summary>
    public const int TileVectors = 64;

    /// <summary>
    /// Grid (query blocks × slices), one query per thread. Lists: (query · Slices + slice) · K in
    /// <paramref name="listIndex"/>/<paramref name="listScore"/>, lengths in <paramref name="listCount"/>.
    /// </summary>
    public static void Scan(
        ArrayView<int> queries,
        ArrayView<int> corpus,
        ArrayView<long> ids,
        ArrayView<long> excluded,
        ArrayView<int> listIndex,
        ArrayView<int> listScore,
        ArrayView<int> listCount,
        ScanShape shape)
    {
        var tile = SharedMemory.Allocate<int>(TileVectors * Words);
        int query = (Grid.IdxX * Group.DimX) + Group.IdxX;
        int slice = Grid.IdxY;
        bool active = query < shape.Queries;
        int start = slice * shape.SliceLength;
        int end = Math.Min(shape.Corpus, start + shape.SliceLength);
        int k = shape.K;
        int list = ((query * shape.Slices) + slice) * k;
        var code = active ? PackedCode.Load(queries, query * Words) : default;
        bool excludes = active && shape.Excludes != 0;
        long skip = excludes ? excluded[query] : 0;

        int kept = 0;
        int bar = shape.MinScore;
        long barId = long.MaxValue;
        for (int tileStart = start; tileStart < end; tileStart += TileVectors)
        {
            int n = Math.Min(TileVectors, end - tileStart);
            int words = n * Words;
            int from = tileStart * Words;
            for (int i = Group.IdxX; i < words; i += Group.DimX)
            {
                tile[i] = corpus[from + i];
            }

            Group.Barrier();
            if (active)
            {
                for (int j = 0; j < n; j++)
                {
                    int score = PackedCode.Dot(code, tile, j * Words);
                    if (score < bar)
                    {
                        continue;
                    }

                    // score ≥ bar: a full list takes it when it ranks before the k-th (see ScanContract.Before).
                    int index = tileStart + j;
                    long id = ids[index];
                    if ((excludes && id == skip) || (kept == k && score == bar && id >= barId))
                    {
                        continue;
                    }

                    kept = Insert(listIndex, listScore, ids, list, kept, k, index, score, id);
                    if (kept == k)
                    {
                        bar = listScore[list + k - 1];
                        barId = ids[listIndex[list + k - 1]];
                    }
                }
            }

            Group.Barrier();
        }

        if (active)
        {
            listCount[(query * shape.Slices) + slice] = kept;
        }
    }

    /// <summary>One thread per query: merges its <see cref="ScanShape.Slices"/> sorted lists into one of K.</summary>
    public static void Merge(
        ArrayView<int> listIndex,
        ArrayView<int> listScore,
        ArrayView<int> listCount,
        ArrayView<long> ids,
        ArrayView<int> outIndex,
        ArrayView<int> outScore,
        ArrayView<int> outCount,
        ScanShape shape)
    {
        int query = (Grid.IdxX * Group.DimX) + Group.IdxX;
        if (query >= shape.Queries)
        {
            return;
        }

        int k = shape.K;
        int list = query * k;
        int kept = 0;
        int bar = int.MinValue;
        long barId = long.MaxValue;
        for (int slice = 0; slice < shape.Slices; slice++)
        {
            int part = (query * shape.Slices) + slice;
            int from = part * k;
            int count = listCount[part];
            for (int i = 0; i < count; i++)
            {
                int score = listScore[from + i];
                int index = listIndex[from + i];
                long id = ids[index];
                if (kept == k && (score < bar || (score == bar && id >= barId)))
                {
                    // The slice's list is sorted: the rest of it ranks lower still.
                    break;
                }

                kept = Insert(outIndex, outScore, ids, list, kept, k, index, score, id);
                if (kept == k)
                {
                    bar = outScore[list + k - 1];
                    barId = ids[outIndex[list + k - 1]];
                }
            }
        }

        outCount[query] = kept;
    }

    /// <summary>Inserts (index, score) into the sorted list at <paramref name="list"/> holding <paramref name="kept"/> of at most k; returns the new length.</summary>
    private static int Insert(ArrayView<int> listIndex, ArrayView<int> listScore, ArrayView<long> ids, int list, int kept, int k, int index, int score, long id)
    {
        int at = Math.Min(kept, k - 1);
        while (at > 0)
        {
            int previousScore = listScore[list + at - 1];
            int previousIndex = listIndex[list + at - 1];
            if (score < previousScore || (score == previousScore && id >= ids[previousIndex]))
            {
                break;
            }

            listScore[list + at] = previousScore;
            listIndex[list + at] = previousIndex;
            at--;
        }

        listScore[list + at] = score;
        listIndex[list + at] = index;
        return Math.Min(kept + 1, k);
    }
}
