using FaceIndex.Core;

namespace FaceIndex.Clustering.Tests;

/// <summary>
/// Regression of a crash found by fuzzing the server (docs/fuzzing.md): StartClustering of a
/// collection whose faces were all deleted failed with ArgumentOutOfRangeException from the
/// partitioner of the kNN graph. An empty set is an empty graph and no clusters.
/// </summary>
public sealed class EmptySetTests
{
    public static TheoryData<ClusteringAlgorithm> Algorithms => [.. Enum.GetValues<ClusteringAlgorithm>()];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Clustering_no_faces_gives_no_clusters(ClusteringAlgorithm algorithm)
    {
        var options = new ClusteringOptions { Algorithm = algorithm, MaxDegreeOfParallelism = 2 };
        var index = BruteForceIndex.Of([], []);

        var graph = KnnGraphBuilder.Build(index, ReadOnlyMemory<long>.Empty, ReadOnlyMemory<FaceVector>.Empty, options);
        Assert.Equal(0, graph.NodeCount);

        var result = FaceClusterer.Cluster(index, ReadOnlyMemory<long>.Empty, ReadOnlyMemory<FaceVector>.Empty, options);
        Assert.Equal(0, result.ClusterCount);
    }
}
