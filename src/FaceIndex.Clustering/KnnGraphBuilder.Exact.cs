using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Clustering;

public static partial class KnnGraphBuilder
{
    /// <summary>Queries per call to the scanner: bounds the result buffer and paces progress and cancellation.</summary>
    private const int ExactBatch = 65_536;

    /// <summary>
    /// The exact kNN graph of a face set by scanning every pair on the processor's cores, with no
    /// index: O(N²) int8 dot products. For small sets (a few tens of thousands of faces), and as
    /// the ground truth an approximate graph is measured against.
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
        return BuildExact(new CpuExactScanner(options.DegreeOfParallelism), faceIds, vectors, options, progress, cancellationToken);
    }

    /// <summary>
    /// The exact kNN graph of a face set by scanning every pair on <paramref name="scanner"/> (the
    /// processor's cores, or a GPU): the same graph whichever scanner runs it.
    /// </summary>
    /// <param name="scanner">Where the scan runs.</param>
    /// <param name="faceIds">The face ids, one per row; unique. Ties in score go to the smaller id.</param>
    /// <param name="vectors">The codes, aligned with <paramref name="faceIds"/>.</param>
    /// <param name="options">K and threshold (the scanner has its own parallelism).</param>
    /// <param name="progress">Receives <see cref="ClusteringPhase.KnnGraph"/> reports (faces done), from worker threads.</param>
    /// <param name="cancellationToken">Stops the scan between batches of rows.</param>
    /// <exception cref="ArgumentException">The spans differ in length or an id repeats.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static KnnGraph BuildExact(
        IExactScanner scanner,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scanner);
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

        // Rows are told apart by id: the scan skips a row's own id, so ids must be unique.
        _ = RowMap.Create(faceIds.Span);
        var targets = new int[n * k];
        var scores = new int[n * k];
        var counts = new byte[n];
        int minDot = options.MinDot;
        long done = 0;
        progress?.Report(new ClusteringProgress(ClusteringPhase.KnnGraph, 0, n));
        Action<int>? report = progress is null
            ? null
            : finished => progress.Report(new ClusteringProgress(ClusteringPhase.KnnGraph, Interlocked.Add(ref done, finished), n));

        using var corpus = scanner.CreateCorpus();
        corpus.Sync(vectors.Span, faceIds.Span, 0);
        int batch = Math.Min(n, ExactBatch);
        var hits = new ScanHit[batch * k];
        var found = new int[batch];
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            corpus.Search(vectors.Slice(start, rows), faceIds.Slice(start, rows), k, minDot, hits, found, report, cancellationToken);
            for (int r = 0; r < rows; r++)
            {
                int offset = (start + r) * k;
                var row = hits.AsSpan(r * k, found[r]);
                for (int i = 0; i < row.Length; i++)
                {
                    targets[offset + i] = row[i].Index;
                    scores[offset + i] = row[i].Score;
                }

                counts[start + r] = (byte)row.Length;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return new KnnGraph(k, minDot, targets, scores, counts);
    }
}
