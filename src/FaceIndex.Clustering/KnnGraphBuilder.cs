using System.Collections.Concurrent;
using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Clustering;

/// <summary>
/// Builds the approximate kNN graph of a face set by querying an <see cref="IVectorIndex"/> that
/// holds those faces (and possibly others, which are ignored), in parallel over cores.
/// </summary>
public static partial class KnnGraphBuilder
{
    private const int RowsPerChunk = 256;

    /// <summary>
    /// Queries the index once per face for its <see cref="ClusteringOptions.K"/> nearest other faces of
    /// the set and keeps those within <see cref="ClusteringOptions.Threshold"/>.
    /// </summary>
    /// <param name="index">An index holding every face of the set under its face id.</param>
    /// <param name="faceIds">The face ids, one per row; unique.</param>
    /// <param name="vectors">The codes, aligned with <paramref name="faceIds"/>.</param>
    /// <param name="options">K, threshold, search breadth and parallelism.</param>
    /// <param name="progress">Receives <see cref="ClusteringPhase.KnnGraph"/> reports (faces done), from worker threads.</param>
    /// <param name="cancellationToken">Stops the build within one chunk of queries per worker.</param>
    /// <exception cref="ArgumentException">The spans differ in length or an id repeats.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static KnnGraph Build(
        IVectorIndex index,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
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

        var rows = RowMap.Create(faceIds.Span);
        var targets = new int[n * k];
        var scores = new int[n * k];
        var counts = new byte[n];
        int minDot = options.MinDot;
        int ef = options.Ef;
        long done = 0;
        progress?.Report(new ClusteringProgress(ClusteringPhase.KnnGraph, 0, n));
        if (n == 0)
        {
            // An empty collection (every face deleted, or none enrolled yet) is an empty graph;
            // the partitioner refuses an empty range.
            return new KnnGraph(k, minDot, targets, scores, counts);
        }

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.DegreeOfParallelism,
            CancellationToken = cancellationToken,
        };
        Parallel.ForEach(
            Partitioner.Create(0, n, RowsPerChunk),
            parallel,
            () => new Neighbor[k + 1],
            (range, state, buffer) =>
            {
                var ids = faceIds.Span;
                var codes = vectors.Span;
                for (int row = range.Item1; row < range.Item2; row++)
                {
                    int found = index.Search(codes[row], buffer, ef);
                    int kept = 0;
                    int offset = row * k;
                    for (int r = 0; r < found && kept < k; r++)
                    {
                        var neighbor = buffer[r];
                        if (neighbor.Score < minDot)
                        {
                            break;
                        }

                        if (neighbor.Id == ids[row] || !rows.TryGetRow(neighbor.Id, out int target))
                        {
                            continue;
                        }

                        targets[offset + kept] = target;
                        scores[offset + kept] = neighbor.Score;
                        kept++;
                    }

                    counts[row] = (byte)kept;
                }

                long total = Interlocked.Add(ref done, range.Item2 - range.Item1);
                progress?.Report(new ClusteringProgress(ClusteringPhase.KnnGraph, total, n));
                if (cancellationToken.IsCancellationRequested)
                {
                    state.Stop();
                }

                return buffer;
            },
            _ => { });
        cancellationToken.ThrowIfCancellationRequested();
        return new KnnGraph(k, minDot, targets, scores, counts);
    }
}
