using FaceIndex.Core;

namespace FaceIndex.Clustering;

/// <summary>
/// Connected components with a tightness check. An edge joins two faces only when it is within
/// the threshold and supported (mutual kNN, or at least <see cref="ClusteringOptions.MinSharedNeighbors"/>
/// shared neighbours), so one stray neighbour cannot bridge two identities. A component whose
/// farthest member lies beyond <see cref="ClusteringOptions.EffectiveMaxRadius"/> of its centroid is
/// then re-split with the same rules at a tighter threshold, step by step, until every part is
/// tight or the threshold has halved.
/// </summary>
internal static class ConnectedComponents
{
    public static int[] Run(
        KnnGraph graph,
        ReadOnlyMemory<FaceVector> vectors,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress,
        CancellationToken cancellationToken)
    {
        int n = graph.NodeCount;
        int minShared = options.MinSharedNeighbors;

        // Pass 1: components of the supported edges at the full threshold.
        var sets = new UnionFind(n);
        int minDot = options.MinDot;
        for (int i = 0; i < n; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new ClusteringProgress(ClusteringPhase.Clustering, i, n));
            }

            JoinSupported(graph, sets, i, minDot, minShared, static row => row, null);
        }

        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = sets.Find(i);
        }

        // Pass 2: split components that are not tight, at ever tighter thresholds.
        var splitter = new ComponentSplitter(graph, vectors, options, labels);
        splitter.SplitLoose(cancellationToken);
        progress?.Report(new ClusteringProgress(ClusteringPhase.Clustering, n, n));
        return labels;
    }

    /// <summary>
    /// Unions <paramref name="node"/> with each neighbour at or above <paramref name="minDot"/> whose
    /// edge is supported. <paramref name="local"/> maps a row to the union–find element;
    /// <paramref name="inScope"/> (when given) restricts the neighbours to one component.
    /// </summary>
    internal static void JoinSupported(
        KnnGraph graph,
        UnionFind sets,
        int node,
        int minDot,
        int minShared,
        Func<int, int> local,
        Func<int, bool>? inScope)
    {
        var neighbors = graph.GetNeighbors(node);
        var scores = graph.GetScores(node);
        for (int e = 0; e < neighbors.Length; e++)
        {
            if (scores[e] < minDot)
            {
                break;
            }

            int other = neighbors[e];
            if (inScope is not null && !inScope(other))
            {
                continue;
            }

            if (graph.HasEdge(other, node) || graph.SharedNeighbors(node, other) >= minShared)
            {
                sets.Union(local(node), local(other));
            }
        }
    }
}
