namespace FaceIndex.Clustering;

/// <summary>
/// A k-nearest-neighbour graph over a set of faces, holding only the edges under a distance
/// threshold. Nodes are the rows of the face set it was built from (0 … <see cref="NodeCount"/> − 1);
/// each node lists up to <see cref="K"/> neighbours, nearest first, with their raw int8 dot products.
/// </summary>
/// <remarks>
/// Storage is two flat arrays with a fixed stride of <see cref="K"/> (target row, score) plus a byte
/// count per node: N·k·8 + N bytes, never an N×N matrix. Built by <see cref="KnnGraphBuilder"/>.
/// </remarks>
public sealed class KnnGraph
{
    /// <summary>The largest supported k.</summary>
    public const int MaxK = 255;

    private readonly int[] _targets;
    private readonly int[] _scores;
    private readonly byte[] _counts;

    internal KnnGraph(int k, int minDot, int[] targets, int[] scores, byte[] counts)
    {
        K = k;
        MinDot = minDot;
        _targets = targets;
        _scores = scores;
        _counts = counts;
        long edges = 0;
        foreach (byte count in counts)
        {
            edges += count;
        }

        EdgeCount = edges;
    }

    /// <summary>Number of nodes (faces).</summary>
    public int NodeCount => _counts.Length;

    /// <summary>The most neighbours kept per node.</summary>
    public int K { get; }

    /// <summary>The smallest raw dot product of any kept edge (the threshold the graph was built at).</summary>
    public int MinDot { get; }

    /// <summary>Number of directed edges kept.</summary>
    public long EdgeCount { get; }

    /// <summary>Bytes held by the edge arrays.</summary>
    public long MemoryBytes => ((long)_targets.Length * sizeof(int) * 2) + _counts.Length;

    /// <summary>The neighbour rows of <paramref name="node"/>, nearest first.</summary>
    public ReadOnlySpan<int> GetNeighbors(int node) => _targets.AsSpan(node * K, _counts[node]);

    /// <summary>The raw dot products matching <see cref="GetNeighbors"/>, in the same order (non-increasing).</summary>
    public ReadOnlySpan<int> GetScores(int node) => _scores.AsSpan(node * K, _counts[node]);

    /// <summary>True when <paramref name="target"/> is among the kept neighbours of <paramref name="node"/>.</summary>
    internal bool HasEdge(int node, int target) => GetNeighbors(node).Contains(target);

    /// <summary>Number of neighbours that <paramref name="a"/> and <paramref name="b"/> both list.</summary>
    internal int SharedNeighbors(int a, int b)
    {
        var na = GetNeighbors(a);
        var nb = GetNeighbors(b);
        int shared = 0;
        foreach (int t in na)
        {
            if (nb.Contains(t))
            {
                shared++;
            }
        }

        return shared;
    }
}
