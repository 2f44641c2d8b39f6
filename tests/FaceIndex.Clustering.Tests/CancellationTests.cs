namespace FaceIndex.Clustering.Tests;

public sealed class CancellationTests
{
    [Fact]
    public async Task Cancelling_during_the_graph_build_stops_it_promptly()
    {
        var set = TestFaces.SyntheticMixture(1500);
        var index = set.Index();
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<ClusteringProgress>(p =>
        {
            if (p.Completed > 0)
            {
                cancel.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            FaceClusterer.ClusterAsync(index, set.Ids, set.Vectors, new ClusteringOptions { MaxDegreeOfParallelism = 2 }, progress, cancel.Token));

        // Each worker finishes at most its current chunk of 256 queries.
        Assert.True(index.Searches < set.Count / 2, $"{index.Searches} of {set.Count} queries ran after cancellation");
    }

    [Theory]
    [InlineData(ClusteringAlgorithm.ChineseWhispers)]
    [InlineData(ClusteringAlgorithm.ConnectedComponents)]
    public void Cancelling_during_clustering_throws_operation_cancelled(ClusteringAlgorithm algorithm)
    {
        var set = TestFaces.SyntheticMixture(100);
        var options = new ClusteringOptions { Algorithm = algorithm };
        var graph = KnnGraphBuilder.Build(set.Index(), set.Ids, set.Vectors, options);
        using var cancel = new CancellationTokenSource();
        var phases = new List<ClusteringPhase>();
        var progress = new SynchronousProgress<ClusteringProgress>(p =>
        {
            phases.Add(p.Phase);
            if (p.Phase == ClusteringPhase.Clustering)
            {
                cancel.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() => FaceClusterer.Cluster(graph, set.Ids, set.Vectors, options, progress, cancel.Token));
        Assert.DoesNotContain(ClusteringPhase.Finishing, phases);
    }
}
