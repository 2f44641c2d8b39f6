using FaceIndex.Core;

namespace FaceIndex.Clustering.Tests;

public sealed class MergeSuggesterTests
{
    [Fact]
    public void Each_cluster_is_matched_to_the_enrolled_person_it_most_resembles_when_within_the_threshold()
    {
        var random = new Random(17);
        var alice = TestFaces.Axis(10);
        var bob = TestFaces.Axis(20);
        var stranger = TestFaces.Axis(30);
        var set = TestFaces.FromGroups(
            TestFaces.Around(alice, 6, 0.03, random),
            TestFaces.Around(stranger, 5, 0.03, random),
            TestFaces.Around(bob, 4, 0.03, random));
        var result = FaceClusterer.Cluster(set.Index(), set.Ids, set.Vectors, new ClusteringOptions());
        PersonVectors[] persons =
        [
            new("bob", TestFaces.Around(bob, 2, 0.03, random)),
            new("alice", TestFaces.Around(alice, 3, 0.03, random)),
            new("near-alice", TestFaces.Around(TestFaces.Blend(alice, bob, 0.45), 3, 0.03, random)),
            new("nobody", Array.Empty<FaceVector>()),
        ];

        var suggestions = MergeSuggester.SuggestMerges(result, persons, threshold: 0.8f);

        Assert.Equal(3, result.ClusterCount);
        Assert.Equal(2, suggestions.Count);
        Assert.Equal((0, "alice"), (suggestions[0].ClusterId, suggestions[0].PersonId));
        Assert.Equal((2, "bob"), (suggestions[1].ClusterId, suggestions[1].PersonId));
        Assert.All(suggestions, s => Assert.InRange(s.Distance, 0f, 0.8f));
    }

    [Fact]
    public void Small_clusters_are_skipped()
    {
        var random = new Random(2);
        var alice = TestFaces.Axis(10);
        var set = TestFaces.FromGroups(TestFaces.Around(alice, 1, 0.03, random));
        var result = ClusteringResult.FromAssignments(set.Ids, set.Vectors, set.Labels);
        PersonVectors[] persons = [new("alice", TestFaces.Around(alice, 2, 0.03, random))];

        Assert.Empty(MergeSuggester.SuggestMerges(result, persons, 0.8f, minClusterSize: 2));
        Assert.Single(MergeSuggester.SuggestMerges(result, persons, 0.8f, minClusterSize: 1));
    }
}
