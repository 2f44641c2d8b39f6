namespace FaceIndex.Clustering;

/// <summary>
/// The undirected view of a <see cref="KnnGraph"/>'s edges at or above a raw dot product, in
/// compressed sparse rows: each pair appears once per endpoint (a mutual kNN edge is not doubled).
/// </summary>
internal sealed class SymmetricGraph
{
    private readonly int[] _start;
    private readonly int[] _targets;
    private readonly int[] _weights;

    private SymmetricGraph(int[] start, int[] targets, int[] weights)
    {
        _start = start;
        _targets = targets;
        _weights = weights;
    }

    public int NodeCount => _start.Length - 1;

    public ReadOnlySpan<int> GetNeighbors(int node) => _targets.AsSpan(_start[node], _start[node + 1] - _start[node]);

    public ReadOnlySpan<int> GetWeights(int node) => _weights.AsSpan(_start[node], _start[node + 1] - _start[node]);

    public static SymmetricGraph Create(KnnGraph graph, int minDot)
    {
        int n = graph.NodeCount;
        var degree = new int[n + 1];
        ForEachUndirectedEdge(graph, minDot, (a, b, _) =>
        {
            degree[a]++;
            degree[b]++;
        });

        var start = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            start[i + 1] = checked(start[i] + degree[i]);
        }

        var targets = new int[start[n]];
        var weights = new int[start[n]];
        var fill = start.AsSpan(0, n).ToArray();
        ForEachUndirectedEdge(graph, minDot, (a, b, w) =>
        {
            targets[fill[a]] = b;
            weights[fill[a]++] = w;
            targets[fill[b]] = a;
            weights[fill[b]++] = w;
        });

        return new SymmetricGraph(start, targets, weights);
    }

    /// <summary>Visits every undirected pair once: a → b, unless b also lists a and b &lt; a.</summary>
    private static void ForEachUndirectedEdge(KnnGraph graph, int minDot, Action<int, int, int> visit)
    {
        for (int a = 0; a < graph.NodeCount; a++)
        {
            var neighbors = graph.GetNeighbors(a);
            var scores = graph.GetScores(a);
            for (int e = 0; e < neighbors.Length && scores[e] >= minDot; e++)
            {
                int b = neighbors[e];
                if (b < a && graph.HasEdge(b, a))
                {
                    continue;
                }

                visit(a, b, scores[e]);
            }
        }
    }
}
