using FaceIndex.Core;

namespace FaceIndex.Clustering.Tests;

public sealed class ConnectedComponentsTests
{
    /// <summary>
    /// Two people 90° apart (20 faces each, pairwise distance ≈ 0.2) and one face halfway between
    /// them, within the threshold of both: single linkage chains all 41 faces into one cluster.
    /// </summary>
    internal static LabelledSet TwoPeopleAndABridge()
    {
        var random = new Random(5);
        var a = TestFaces.Axis(0);
        var b = TestFaces.Axis(1);
        var alice = TestFaces.Around(a, 20, 0.03, random);
        var bob = TestFaces.Around(b, 20, 0.03, random);
        var bridge = new[] { TestFaces.Code(TestFaces.Blend(a, b, 0.5), 0.0, random) };
        return TestFaces.FromGroups(alice, bob, bridge);
    }

    [Fact]
    public void Bridge_face_does_not_chain_two_people_together()
    {
        var set = TwoPeopleAndABridge();
        Assert.True(Similarity.Distance(set.Vectors[40], set.Vectors[0]) < 0.84f, "the bridge is within the threshold of alice");
        Assert.True(Similarity.Distance(set.Vectors[40], set.Vectors[20]) < 0.84f, "the bridge is within the threshold of bob");

        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, new ClusteringOptions { K = 24 });

        var clusters = result.ClusterIds.ToArray();
        Assert.Single(clusters[..20].Distinct());
        Assert.Single(clusters[20..40].Distinct());
        Assert.NotEqual(clusters[0], clusters[20]);
        Assert.Equal(20, result.GetSummary(clusters[0]).Size);
        Assert.Equal(20, result.GetSummary(clusters[20]).Size);
    }

    [Fact]
    public void Without_the_tightness_check_the_bridge_merges_them()
    {
        var set = TwoPeopleAndABridge();
        var loose = new ClusteringOptions { K = 24, MinSharedNeighbors = 0, MaxRadius = 4f };

        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, loose);

        Assert.Equal(1, result.ClusterCount);
    }

    [Fact]
    public void Hand_made_groups_and_an_outlier_get_their_known_clusters()
    {
        var random = new Random(11);
        var groups = new[]
        {
            TestFaces.Around(TestFaces.Axis(3), 7, 0.03, random),
            TestFaces.Around(TestFaces.Axis(9), 4, 0.03, random),
            TestFaces.Around(TestFaces.Axis(50), 2, 0.03, random),
            TestFaces.Around(TestFaces.Axis(100), 1, 0.03, random),
        };
        var set = TestFaces.FromGroups(groups);

        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, new ClusteringOptions { K = 8 });

        Assert.Equal([7, 4, 2, 1], result.Clusters.Select(c => c.Size));
        Assert.Equal(set.Ids[..7], result.GetMembers(0).ToArray());
        Assert.Equal(set.Ids[7..11], result.GetMembers(1).ToArray());
        Assert.Equal(set.Ids[11..13], result.GetMembers(2).ToArray());
        Assert.Equal(set.Ids[13..], result.GetMembers(3).ToArray());
    }

    [Fact]
    public void Synthetic_mixture_is_recovered()
    {
        var set = TestFaces.SyntheticMixture(300);

        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, new ClusteringOptions());

        var quality = ClusteringMetrics.Evaluate(set.Labels, result.ClusterIds);
        Assert.True(quality.BCubedF1 >= 0.99, $"BCubed F1 {quality.BCubedF1:F4}");
        Assert.True(quality.PairwiseF1 >= 0.98, $"pairwise F1 {quality.PairwiseF1:F4}");
    }
}
