using FaceIndex.Core;

namespace FaceIndex.Clustering;

/// <summary>The clustering algorithms that <see cref="FaceClusterer"/> runs over the kNN graph.</summary>
public enum ClusteringAlgorithm
{
    /// <summary>
    /// Connected components of the supported edges (mutual kNN or enough shared neighbours),
    /// with a tightness check that splits any component whose members stray too far from its
    /// centroid by re-running at a tighter threshold.
    /// </summary>
    ConnectedComponents = 0,

    /// <summary>Chinese whispers: label propagation weighted by similarity, in a seeded order.</summary>
    ChineseWhispers = 1,
}

/// <summary>
/// Settings of one clustering run. Defaults suit 128-byte face codes of the bundled model and the
/// synthetic set of shared/bench/GENERATOR.md; the host binds them from configuration and calls
/// <see cref="Validate"/> before handing them over.
/// </summary>
/// <remarks>
/// Adding a setting: give it a documented default here, check its range in <see cref="Validate"/>,
/// and name it in docs/clustering.md.
/// </remarks>
public sealed class ClusteringOptions
{
    /// <summary>The algorithm. Default <see cref="ClusteringAlgorithm.ConnectedComponents"/>.</summary>
    public ClusteringAlgorithm Algorithm { get; set; } = ClusteringAlgorithm.ConnectedComponents;

    /// <summary>
    /// Edge threshold as a squared L2 distance between unit vectors (0 = identical, 2 = orthogonal):
    /// two faces can share a cluster only through edges at most this long. Default 0.84 (cosine 0.58).
    /// </summary>
    public float Threshold { get; set; } = 0.84f;

    /// <summary>Neighbours per face in the kNN graph (the face itself excluded). Default 16; 1–255.</summary>
    public int K { get; set; } = 16;

    /// <summary>Search breadth passed to the index per query; 0 = the index's default.</summary>
    public int Ef { get; set; }

    /// <summary>Seed of every random choice (Chinese whispers' visiting order). Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Worker threads for the kNN graph; 0 = one per processor. Default 0.</summary>
    public int MaxDegreeOfParallelism { get; set; }

    /// <summary>
    /// Connected components: an edge that is not mutual (each face in the other's k nearest) is kept
    /// only when the two faces share at least this many neighbours. Default 2; 0 keeps every edge;
    /// more than <see cref="K"/> keeps only mutual edges.
    /// </summary>
    public int MinSharedNeighbors { get; set; } = 2;

    /// <summary>
    /// Connected components: the largest squared L2 distance allowed between a member and its
    /// component's centroid before the component is split at a tighter threshold. 0 (default)
    /// derives it from <see cref="Threshold"/>: the radius of a cloud whose members are all
    /// pairwise exactly at the threshold, 2 − 2·√(1 − Threshold/2).
    /// </summary>
    public float MaxRadius { get; set; }

    /// <summary>Chinese whispers: the most passes over the graph; it stops earlier once no label changes. Default 30.</summary>
    public int MaxIterations { get; set; } = 30;

    /// <summary>The radius bound in effect: <see cref="MaxRadius"/>, or the one derived from the threshold.</summary>
    public float EffectiveMaxRadius =>
        MaxRadius > 0 ? MaxRadius : 2f - (2f * MathF.Sqrt(1f - (Math.Min(Threshold, 2f) / 2f)));

    /// <summary>The smallest raw int8 dot product that <see cref="Threshold"/> admits.</summary>
    public int MinDot => Similarity.MinDotForDistance(Threshold);

    /// <summary>Checks every setting; the message names the one that is wrong.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Algorithm))
        {
            throw new ArgumentOutOfRangeException(nameof(Algorithm), Algorithm, "Unknown clustering algorithm.");
        }

        if (!(Threshold > 0f && Threshold <= 4f))
        {
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "Threshold is a squared L2 distance in (0, 4].");
        }

        if (K is < 1 or > KnnGraph.MaxK)
        {
            throw new ArgumentOutOfRangeException(nameof(K), K, $"K must lie in [1, {KnnGraph.MaxK}].");
        }

        if (Ef < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Ef), Ef, "Ef must be 0 (index default) or positive.");
        }

        if (MaxDegreeOfParallelism < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "Use 0 for one thread per processor.");
        }

        if (MinSharedNeighbors is < 0 or > KnnGraph.MaxK)
        {
            throw new ArgumentOutOfRangeException(nameof(MinSharedNeighbors), MinSharedNeighbors, $"MinSharedNeighbors must lie in [0, {KnnGraph.MaxK}].");
        }

        if (!(MaxRadius >= 0f && MaxRadius <= 4f))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRadius), MaxRadius, "MaxRadius is a squared L2 distance in [0, 4] (0 = derived).");
        }

        if (MaxIterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "MaxIterations must be at least 1.");
        }
    }

    internal int DegreeOfParallelism => MaxDegreeOfParallelism > 0 ? MaxDegreeOfParallelism : Environment.ProcessorCount;
}
