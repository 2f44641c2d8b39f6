using FaceIndex.Clustering;
using FaceIndex.Index;

namespace FaceIndex.Gpu.Tests;

/// <summary>The exact kNN graph is the same graph whichever scanner builds it.</summary>
public sealed class GraphEquivalenceTests(ScannerFixture fixture) : IClassFixture<ScannerFixture>
{
    [Theory]
    [InlineData(450, 1, 2.0f, 127)]
    [InlineData(333, 12, 2.0f, 2)]
    [InlineData(200, 32, 0.6f, 127)]
    public void Gpu_kernels_build_the_same_graph_as_the_cpu_scan(int n, int k, float threshold, int spread)
    {
        var (vectors, ids) = RandomCodes.Create(n, spread, seed: n + k);
        var options = new ClusteringOptions { K = k, Threshold = threshold, MaxDegreeOfParallelism = 2 };
        var reports = new List<ClusteringProgress>();

        var cpu = KnnGraphBuilder.BuildExact(ids, vectors, options);
        var gpu = KnnGraphBuilder.BuildExact(fixture.Scanner, ids, vectors, options, new SyncProgress(reports));

        Assert.Equal(cpu.NodeCount, gpu.NodeCount);
        Assert.Equal(cpu.EdgeCount, gpu.EdgeCount);
        Assert.True(cpu.EdgeCount > 0);
        for (int row = 0; row < n; row++)
        {
            Assert.Equal(cpu.GetNeighbors(row).ToArray(), gpu.GetNeighbors(row).ToArray());
            Assert.Equal(cpu.GetScores(row).ToArray(), gpu.GetScores(row).ToArray());
            Assert.DoesNotContain(row, gpu.GetNeighbors(row).ToArray());
        }

        Assert.Equal(n, reports.Max(r => r.Completed));
    }

    [Fact]
    public void A_cancelled_build_stops()
    {
        var (vectors, ids) = RandomCodes.Create(100, 127, seed: 3);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            KnnGraphBuilder.BuildExact(fixture.Scanner, ids, vectors, new ClusteringOptions { K = 4 }, cancellationToken: cts.Token));
    }

    [Fact]
    public void Repeated_ids_are_refused_before_scanning()
    {
        var (vectors, ids) = RandomCodes.Create(10, 127, seed: 4);
        ids[7] = ids[2];
        Assert.Throws<ArgumentException>(() => KnnGraphBuilder.BuildExact(new CpuExactScanner(1), ids, vectors, new ClusteringOptions { K = 4 }));
    }

    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SyncProgress(List<ClusteringProgress> reports) : IProgress<ClusteringProgress>
    {
        public void Report(ClusteringProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
