using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Clustering;

/// <summary>
/// The clustering engine's entry point: kNN graph from the index (or an exact scan), then the chosen
/// algorithm, then the numbered result. CPU-bound and synchronous; the <c>ClusterAsync</c> overloads
/// run it on a dedicated thread for hosts that must not block.
/// </summary>
public static class FaceClusterer
{
    /// <summary>Clusters a face set whose faces are all held by <paramref name="index"/>.</summary>
    /// <param name="index">An index holding every face of the set under its face id.</param>
    /// <param name="faceIds">The face ids, one per row; unique.</param>
    /// <param name="vectors">The codes, aligned with <paramref name="faceIds"/>.</param>
    /// <param name="options">Validated here.</param>
    /// <param name="progress">Phase and progress reports, from worker threads.</param>
    /// <param name="cancellationToken">Stops the run promptly with <see cref="OperationCanceledException"/>.</param>
    public static ClusteringResult Cluster(
        IVectorIndex index,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var graph = KnnGraphBuilder.Build(index, faceIds, vectors, options, progress, cancellationToken);
        return Cluster(graph, faceIds, vectors, options, progress, cancellationToken);
    }

    /// <summary>
    /// Clusters over a graph built before (e.g. to try several thresholds on one graph). The
    /// threshold may be tighter than the graph's, never looser.
    /// </summary>
    /// <exception cref="ArgumentException">The graph does not match the set, or was built at a tighter threshold.</exception>
    public static ClusteringResult Cluster(
        KnnGraph graph,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (graph.NodeCount != faceIds.Length || graph.NodeCount != vectors.Length)
        {
            throw new ArgumentException($"The graph has {graph.NodeCount} nodes; the set has {faceIds.Length} ids and {vectors.Length} vectors.", nameof(graph));
        }

        if (options.MinDot < graph.MinDot)
        {
            throw new ArgumentException($"The graph holds edges down to distance {Similarity.DistanceFromDot(graph.MinDot):F3}; threshold {options.Threshold:F3} needs a new graph.", nameof(options));
        }

        progress?.Report(new ClusteringProgress(ClusteringPhase.Clustering, 0, 1));
        var labels = options.Algorithm switch
        {
            ClusteringAlgorithm.ChineseWhispers => ChineseWhispers.Run(graph, options, progress, cancellationToken),
            _ => ConnectedComponents.Run(graph, vectors, options, progress, cancellationToken),
        };

        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(new ClusteringProgress(ClusteringPhase.Finishing, 0, 1));
        var result = ClusteringResult.FromAssignments(faceIds.Span, vectors.Span, labels);
        progress?.Report(new ClusteringProgress(ClusteringPhase.Finishing, 1, 1));
        return result;
    }

    /// <summary>
    /// Clusters a face set over its exact kNN graph, scanned on <paramref name="scanner"/> (see
    /// <see cref="KnnGraphBuilder.BuildExact(IExactScanner, ReadOnlyMemory{long}, ReadOnlyMemory{FaceVector}, ClusteringOptions, IProgress{ClusteringProgress}?, CancellationToken)"/>):
    /// the choice where a GPU makes the all-pairs scan cheap.
    /// </summary>
    public static ClusteringResult Cluster(
        IExactScanner scanner,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var graph = KnnGraphBuilder.BuildExact(scanner, faceIds, vectors, options, progress, cancellationToken);
        return Cluster(graph, faceIds, vectors, options, progress, cancellationToken);
    }

    /// <summary><see cref="Cluster(IExactScanner, ReadOnlyMemory{long}, ReadOnlyMemory{FaceVector}, ClusteringOptions, IProgress{ClusteringProgress}?, CancellationToken)"/> on a dedicated thread.</summary>
    public static Task<ClusteringResult> ClusterAsync(
        IExactScanner scanner,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(
            () => Cluster(scanner, faceIds, vectors, options, progress, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    /// <summary><see cref="Cluster(IVectorIndex, ReadOnlyMemory{long}, ReadOnlyMemory{FaceVector}, ClusteringOptions, IProgress{ClusteringProgress}?, CancellationToken)"/> on a dedicated thread.</summary>
    public static Task<ClusteringResult> ClusterAsync(
        IVectorIndex index,
        ReadOnlyMemory<long> faceIds,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Factory.StartNew(
            () => Cluster(index, faceIds, vectors, options, progress, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
}
