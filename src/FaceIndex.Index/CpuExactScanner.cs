using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FaceIndex.Core;

namespace FaceIndex.Index;

/// <summary>
/// <see cref="IExactScanner"/> on the processor: each query scores every corpus vector with the
/// SIMD int8 kernel and keeps its top-k by insertion; queries run in parallel over cores. The
/// reference that every other scanner must match.
/// </summary>
public sealed class CpuExactScanner : IExactScanner
{
    /// <summary>Creates a scanner on <paramref name="maxDegreeOfParallelism"/> threads (0 = one per processor).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The degree is negative.</exception>
    public CpuExactScanner(int maxDegreeOfParallelism = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDegreeOfParallelism);
        Threads = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
    }

    /// <summary>Threads a search uses.</summary>
    public int Threads { get; }

    /// <inheritdoc />
    public string Description => $"CPU, {Threads} threads";

    /// <inheritdoc />
    public bool IsDevice => false;

    /// <inheritdoc />
    /// <remarks>Never: a single query gains nothing from this scanner over the caller's own scan.</remarks>
    public int SingleQueryCrossover => int.MaxValue;

    /// <inheritdoc />
    public IScanCorpus CreateCorpus() => new Corpus(Threads);

    private sealed class Corpus(int threads) : IScanCorpus
    {
        private const int QueriesPerChunk = 64;

        private FaceVector[] _vectors = [];
        private long[] _ids = [];

        public int Count { get; private set; }

        public void Sync(ReadOnlySpan<FaceVector> vectors, ReadOnlySpan<long> ids, int from)
        {
            ScanContract.ValidateSync(vectors.Length, ids.Length, from);
            if (vectors.Length > _vectors.Length)
            {
                int capacity = (int)Math.Min(ScanContract.MaxCorpus, Math.Max(vectors.Length, 2L * _vectors.Length));
                Array.Resize(ref _vectors, capacity);
                Array.Resize(ref _ids, capacity);
            }

            vectors[from..].CopyTo(_vectors.AsSpan(from));
            ids[from..].CopyTo(_ids.AsSpan(from));
            Count = vectors.Length;
        }

        public void Search(
            ReadOnlyMemory<FaceVector> queries,
            ReadOnlyMemory<long> excludedIds,
            int k,
            int minScore,
            Memory<ScanHit> hits,
            Memory<int> counts,
            Action<int>? progress = null,
            CancellationToken cancellationToken = default)
        {
            ScanContract.ValidateSearch(queries.Length, excludedIds.Length, k, hits.Length, counts.Length);
            cancellationToken.ThrowIfCancellationRequested();
            if (queries.Length == 0)
            {
                return;
            }

            var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
            Parallel.ForEach(
                Partitioner.Create(0, queries.Length, QueriesPerChunk),
                parallel,
                (range, state) =>
                {
                    var query = queries.Span;
                    var excluded = excludedIds.Span;
                    var results = hits.Span;
                    var found = counts.Span;
                    for (int q = range.Item1; q < range.Item2; q++)
                    {
                        bool excludes = !excluded.IsEmpty;
                        found[q] = Scan(query[q], excludes, excludes ? excluded[q] : 0, minScore, results.Slice(q * k, k));
                    }

                    progress?.Invoke(range.Item2 - range.Item1);
                    if (cancellationToken.IsCancellationRequested)
                    {
                        state.Stop();
                    }
                });
            cancellationToken.ThrowIfCancellationRequested();
        }

        /// <summary>Top-k of the whole corpus for one query into <paramref name="top"/> (sorted by insertion); returns how many.</summary>
        private int Scan(in FaceVector query, bool excludes, long excluded, int minScore, Span<ScanHit> top)
        {
            int count = Count;
            long[] ids = _ids;
            ref sbyte q = ref MemoryMarshal.GetReference(query.AsSpan());
            ref sbyte data = ref Unsafe.As<FaceVector, sbyte>(ref MemoryMarshal.GetArrayDataReference(_vectors));
            const int D = FaceVector.Dimensions;

            // The bar a candidate must reach: minScore until the list is full, then the k-th score.
            // Candidates are offered in corpus order, so that equal (score, id) pairs keep it.
            var list = new TopList(top, minScore);
            int i = 0;
            for (; i + 4 <= count; i += 4)
            {
                ref sbyte v = ref Unsafe.Add(ref data, i * D);
                var scores = VectorMath.Dot128x4(ref q, ref v, ref Unsafe.Add(ref v, D), ref Unsafe.Add(ref v, 2 * D), ref Unsafe.Add(ref v, 3 * D));
                if (Vector128.GreaterThanOrEqualAny(scores, Vector128.Create(list.Bar)))
                {
                    for (int lane = 0; lane < 4; lane++)
                    {
                        list.Offer(i + lane, scores.GetElement(lane), ids, excludes, excluded);
                    }
                }
            }

            for (; i < count; i++)
            {
                list.Offer(i, VectorMath.Dot128(ref q, ref Unsafe.Add(ref data, i * D)), ids, excludes, excluded);
            }

            return list.Kept;
        }

        /// <summary>A query's results while scanning: sorted best first, insertion from the end.</summary>
        private ref struct TopList(Span<ScanHit> top, int minScore)
        {
            private readonly Span<ScanHit> _top = top;

            public int Kept { get; private set; }

            public int Bar { get; private set; } = minScore;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public void Offer(int index, int score, long[] ids, bool excludes, long excluded)
            {
                if (score < Bar)
                {
                    return;
                }

                int k = _top.Length;
                long id = ids[index];
                if ((excludes && id == excluded) || (Kept == k && !ScanContract.Before(score, id, _top[k - 1].Score, ids[_top[k - 1].Index])))
                {
                    return;
                }

                int at = Math.Min(Kept, k - 1);
                while (at > 0 && ScanContract.Before(score, id, _top[at - 1].Score, ids[_top[at - 1].Index]))
                {
                    _top[at] = _top[at - 1];
                    at--;
                }

                _top[at] = new ScanHit(index, score);
                Kept = Math.Min(Kept + 1, k);
                if (Kept == k)
                {
                    Bar = _top[k - 1].Score;
                }
            }
        }

        public void Dispose()
        {
        }
    }
}
