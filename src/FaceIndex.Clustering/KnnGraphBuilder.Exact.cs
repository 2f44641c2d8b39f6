using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FaceIndex.Core;

namespace FaceIndex.Clustering;

public static partial class KnnGraphBuilder
{
    /// <summary>
    /// The exact kNN graph of a face set by scanning every pair, with no index: O(N²) int8 dot
    /// products, in parallel. For small sets (a few tens of thousands of faces), and as the ground
    /// truth an approximate graph is measured against.
    /// </summary>
    /// <param name="faceIds">The face ids, one per row; unique. Ties in score go to the smaller id.</param>
    /// <param name="vectors">The codes, aligned with <paramref name="faceIds"/>.</param>
    /// <param name="options">K, threshold and parallelism.</param>
    /// <param name="progress">Receives <see cref="ClusteringPhase.KnnGraph"/> reports (faces done), from worker threads.</param>
    /// <param name="cancellationToken">Stops the scan within one chunk of rows per worker.</param>
    /// <exception cref="ArgumentException">The spans differ in length or an id repeats.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static KnnGraph BuildExact(
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (faceIds.Length != vectors.Length)
        {
            throw new ArgumentException($"{faceIds.Length} face ids but {vectors.Length} vectors.", nameof(vectors));
        }

        int n = faceIds.Length;
        int k = options.K;
        if ((long)n * k > Array.MaxLength)
        {
            throw new ArgumentException($"{n} faces × k = {k} exceeds one edge array; lower k or cluster in parts.", nameof(faceIds));
        }

        _ = RowMap.Create(faceIds.Span);
        var targets = new int[n * k];
        var scores = new int[n * k];
        var counts = new byte[n];
        int minDot = options.MinDot;
        long done = 0;
        progress?.Report(new ClusteringProgress(ClusteringPhase.KnnGraph, 0, n));

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.DegreeOfParallelism,
            CancellationToken = cancellationToken,
        };
        Parallel.ForEach(
            Partitioner.Create(0, n, RowsPerChunk),
            parallel,
            (range, state) =>
            {
                var ids = faceIds.Span;
                ref sbyte data = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<FaceVector, sbyte>(vectors.Span));
                for (int row = range.Item1; row < range.Item2; row++)
                {
                    var rowTargets = targets.AsSpan(row * k, k);
                    var rowScores = scores.AsSpan(row * k, k);
                    int kept = 0;
                    ref sbyte query = ref Unsafe.Add(ref data, row * FaceVector.Dimensions);
                    for (int other = 0; other < n; other++)
                    {
                        int score = VectorMath.Dot128(ref query, ref Unsafe.Add(ref data, other * FaceVector.Dimensions));
                        if (score < minDot || other == row || (kept == k && !Before(score, ids[other], rowScores[k - 1], ids[rowTargets[k - 1]])))
                        {
                            continue;
                        }

                        // Insert into the row's sorted list: best score first, ties to the smaller id.
                        int at = Math.Min(kept, k - 1);
                        while (at > 0 && Before(score, ids[other], rowScores[at - 1], ids[rowTargets[at - 1]]))
                        {
                            rowTargets[at] = rowTargets[at - 1];
                            rowScores[at] = rowScores[at - 1];
                            at--;
                        }

                        rowTargets[at] = other;
                        rowScores[at] = score;
                        kept = Math.Min(kept + 1, k);
                    }

                    counts[row] = (byte)kept;
                }

                long total = Interlocked.Add(ref done, range.Item2 - range.Item1);
                progress?.Report(new ClusteringProgress(ClusteringPhase.KnnGraph, total, n));
                if (cancellationToken.IsCancellationRequested)
                {
                    state.Stop();
                }
            });
        cancellationToken.ThrowIfCancellationRequested();
        return new KnnGraph(k, minDot, targets, scores, counts);
    }

    private static bool Before(int score, long id, int otherScore, long otherId) =>
        score > otherScore || (score == otherScore && id < otherId);
}
