namespace FaceIndex.Clustering;

/// <summary>
/// Chinese whispers (Biemann 2006): every face starts in its own class; in each pass, faces are
/// visited in an order shuffled by the seed and each adopts the class with the largest summed
/// edge weight (cosine similarity) among its neighbours, ties to the smaller class. Stops when a
/// pass changes nothing or after <see cref="ClusteringOptions.MaxIterations"/> passes.
/// </summary>
internal static class ChineseWhispers
{
    public static int[] Run(
        KnnGraph graph,
        ClusteringOptions options,
        IProgress<ClusteringProgress>? progress,
        CancellationToken cancellationToken)
    {
        var undirected = SymmetricGraph.Create(graph, options.MinDot);
        int n = undirected.NodeCount;
        var labels = new int[n];
        var order = new int[n];
        int maxDegree = 0;
        for (int i = 0; i < n; i++)
        {
            labels[i] = i;
            order[i] = i;
            maxDegree = Math.Max(maxDegree, undirected.GetNeighbors(i).Length);
        }

        var random = new Random(options.Seed);
        var candidates = new int[maxDegree];
        var totals = new long[maxDegree];
        for (int pass = 0; pass < options.MaxIterations; pass++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new ClusteringProgress(ClusteringPhase.Clustering, pass, options.MaxIterations));
            random.Shuffle(order);
            int changed = 0;
            for (int o = 0; o < n; o++)
            {
                if ((o & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                int node = order[o];
                int best = Strongest(undirected.GetNeighbors(node), undirected.GetWeights(node), labels, candidates, totals);
                if (best >= 0 && best != labels[node])
                {
                    labels[node] = best;
                    changed++;
                }
            }

            if (changed == 0)
            {
                break;
            }
        }

        progress?.Report(new ClusteringProgress(ClusteringPhase.Clustering, options.MaxIterations, options.MaxIterations));
        return labels;
    }

    /// <summary>The neighbours' class with the largest summed weight (ties: smaller class); −1 with no neighbours.</summary>
    private static int Strongest(ReadOnlySpan<int> neighbors, ReadOnlySpan<int> weights, int[] labels, int[] candidates, long[] totals)
    {
        int distinct = 0;
        for (int e = 0; e < neighbors.Length; e++)
        {
            int label = labels[neighbors[e]];
            int slot = candidates.AsSpan(0, distinct).IndexOf(label);
            if (slot < 0)
            {
                slot = distinct++;
                candidates[slot] = label;
                totals[slot] = 0;
            }

            totals[slot] += weights[e];
        }

        int best = -1;
        long bestTotal = long.MinValue;
        for (int s = 0; s < distinct; s++)
        {
            if (totals[s] > bestTotal || (totals[s] == bestTotal && candidates[s] < best))
            {
                best = candidates[s];
                bestTotal = totals[s];
            }
        }

        return best;
    }
}
