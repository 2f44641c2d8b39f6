using FaceIndex.Core;

namespace FaceIndex.Clustering.Tests;

public sealed class KnnGraphBuilderTests
{
    [Fact]
    public void Graph_lists_each_faces_exact_nearest_neighbours_within_the_threshold()
    {
        var set = TestFaces.SyntheticMixture(60);
        var index = set.Index();
        var options = new ClusteringOptions { K = 12, Threshold = 1.2f, MaxDegreeOfParallelism = 2 };

        var graph = KnnGraphBuilder.Build(index, set.Ids, set.Vectors, options);

        int minDot = Similarity.MinDotForDistance(1.2f);
        Assert.Equal(set.Count, graph.NodeCount);
        for (int row = 0; row < set.Count; row++)
        {
            var expected = Enumerable.Range(0, set.Count)
                .Where(other => other != row)
                .Select(other => (Row: other, Score: set.Vectors[row].Dot(set.Vectors[other])))
                .OrderByDescending(p => p.Score).ThenBy(p => set.Ids[p.Row])
                .Take(12)
                .Where(p => p.Score >= minDot)
                .ToArray();
            Assert.Equal(expected.Select(p => p.Row), graph.GetNeighbors(row).ToArray());
            Assert.Equal(expected.Select(p => p.Score), graph.GetScores(row).ToArray());
        }
    }

    [Fact]
    public void Edges_beyond_the_threshold_are_dropped_and_memory_stays_within_n_k_12_bytes()
    {
        var set = TestFaces.SyntheticMixture(50);
        var options = new ClusteringOptions { K = 20, Threshold = 0.9f };

        var graph = KnnGraphBuilder.Build(set.Index(), set.Ids, set.Vectors, options);

        int minDot = Similarity.MinDotForDistance(0.9f);
        Assert.Equal(minDot, graph.MinDot);
        long edges = 0;
        for (int row = 0; row < graph.NodeCount; row++)
        {
            var scores = graph.GetScores(row);
            Assert.All(scores.ToArray(), s => Assert.True(s >= minDot));
            edges += scores.Length;
        }

        // Each synthetic identity has 10 samples: 9 partners each, and nothing else that close.
        Assert.Equal(edges, graph.EdgeCount);
        Assert.InRange(graph.EdgeCount, set.Count * 8L, set.Count * 9L);
        Assert.True(graph.MemoryBytes <= set.Count * 20L * 12);
    }

    [Theory]
    [InlineData(1, 2.0f)]
    [InlineData(10, 0.9f)]
    [InlineData(24, 1.6f)]
    public void Exact_scan_builds_the_same_graph_as_querying_an_exact_index(int k, float threshold)
    {
        var set = TestFaces.SyntheticMixture(40);
        var ids = set.Ids.Select(id => 5_000_000_000L - (3 * id)).ToArray();
        var options = new ClusteringOptions { K = k, Threshold = threshold };

        var viaIndex = KnnGraphBuilder.Build(BruteForceIndex.Of(ids, set.Vectors), ids, set.Vectors, options);
        var scanned = KnnGraphBuilder.BuildExact(ids, set.Vectors, options);

        Assert.Equal(viaIndex.EdgeCount, scanned.EdgeCount);
        for (int row = 0; row < set.Count; row++)
        {
            Assert.Equal(viaIndex.GetNeighbors(row).ToArray(), scanned.GetNeighbors(row).ToArray());
            Assert.Equal(viaIndex.GetScores(row).ToArray(), scanned.GetScores(row).ToArray());
        }
    }

    [Fact]
    public void Faces_of_the_index_outside_the_set_are_ignored()
    {
        var set = TestFaces.SyntheticMixture(30);
        var index = set.Index();
        var half = set.Count / 2;

        var graph = KnnGraphBuilder.Build(index, set.Ids.AsMemory(0, half), set.Vectors.AsMemory(0, half), new ClusteringOptions { K = 8 });

        for (int row = 0; row < half; row++)
        {
            Assert.All(graph.GetNeighbors(row).ToArray(), target => Assert.InRange(target, 0, half - 1));
        }
    }

    [Fact]
    public void Repeated_ids_and_mismatched_lengths_are_refused()
    {
        var set = TestFaces.SyntheticMixture(5);
        var ids = (long[])set.Ids.Clone();
        ids[3] = ids[7];

        Assert.Throws<ArgumentException>(() => KnnGraphBuilder.Build(set.Index(), ids, set.Vectors, new ClusteringOptions()));
        Assert.Throws<ArgumentException>(() => KnnGraphBuilder.Build(set.Index(), set.Ids.AsMemory(1), set.Vectors, new ClusteringOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => KnnGraphBuilder.Build(set.Index(), set.Ids, set.Vectors, new ClusteringOptions { K = 0 }));
    }

    [Fact]
    public void Progress_reaches_every_face()
    {
        var set = TestFaces.SyntheticMixture(40);
        var reports = new List<ClusteringProgress>();
        var progress = new SynchronousProgress<ClusteringProgress>(reports.Add);

        KnnGraphBuilder.Build(set.Index(), set.Ids, set.Vectors, new ClusteringOptions(), progress);

        Assert.All(reports, r => Assert.Equal(ClusteringPhase.KnnGraph, r.Phase));
        Assert.Equal(set.Count, reports.Max(r => r.Completed));
        Assert.All(reports, r => Assert.Equal(set.Count, r.Total));
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread, serialised.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    public void Report(T value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
