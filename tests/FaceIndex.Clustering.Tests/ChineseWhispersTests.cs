namespace FaceIndex.Clustering.Tests;

public sealed class ChineseWhispersTests
{
    private static readonly ClusteringOptions s_options = new() { Algorithm = ClusteringAlgorithm.ChineseWhispers, K = 24 };

    [Fact]
    public void Two_people_and_a_bridge_stay_two_clusters()
    {
        var set = ConnectedComponentsTests.TwoPeopleAndABridge();

        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, s_options);

        var clusters = result.ClusterIds.ToArray();
        Assert.Single(clusters[..20].Distinct());
        Assert.Single(clusters[20..40].Distinct());
        Assert.NotEqual(clusters[0], clusters[20]);
        Assert.Equal(2, result.ClusterCount);
        Assert.Contains(clusters[40], new[] { clusters[0], clusters[20] });
    }

    [Fact]
    public void Synthetic_mixture_is_recovered()
    {
        var set = TestFaces.SyntheticMixture(300);

        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, s_options);

        var quality = ClusteringMetrics.Evaluate(set.Labels, result.ClusterIds);
        Assert.True(quality.BCubedF1 >= 0.99, $"BCubed F1 {quality.BCubedF1:F4}");
    }

    [Theory]
    [InlineData(ClusteringAlgorithm.ChineseWhispers)]
    [InlineData(ClusteringAlgorithm.ConnectedComponents)]
    public void Same_seed_gives_the_same_clusters(ClusteringAlgorithm algorithm)
    {
        // A loose threshold makes many ties and contested faces, where visiting order matters.
        var set = TestFaces.SyntheticMixture(200);
        var index = set.Index();
        var options = new ClusteringOptions { Algorithm = algorithm, Threshold = 1.5f, Seed = 42, MaxDegreeOfParallelism = 2 };

        var first = FaceClusterer.Cluster(index, set.Ids, set.Vectors, options);
        var second = FaceClusterer.Cluster(index, set.Ids, set.Vectors, options);

        Assert.Equal(first.ClusterIds.ToArray(), second.ClusterIds.ToArray());
        Assert.Equal(first.Clusters, second.Clusters);
    }
}
