using FaceIndex.Clustering;
using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

/// <summary>
/// A database given a device scanner sends its exact work there: the clustering's kNN graph (all
/// faces as queries) and the scans of unindexed faces. The device here is the CPU scanner presented
/// as one, counting the queries it is given; the GPU kernels' equality with it is FaceIndex.Gpu.Tests'.
/// </summary>
public sealed class ExactScannerRoutingTests
{
    [Fact]
    public async Task Clustering_on_a_device_scanner_uses_the_exact_graph_and_finds_the_identities()
    {
        using var dir = TestPaths.NewTempDirectory();
        var scanner = new CountingDevice();
        await using var database = await FaceDatabase.OpenAsync(DatabaseFixture.Storage(dir.Path), DatabaseFixture.Index(), Indexing(), Model, exactScanner: scanner);
        Assert.Same(scanner, database.ExactScanner);
        for (int sample = 0; sample < 10; sample++)
        {
            await EnrollAsync(database, sample * 10_000, 10);
        }

        // Read-your-writes holds with the tail on the scanner.
        Assert.Equal(10, database.Search(FaceDatabase.DefaultCollection, Vector(30_000), new Neighbor[10]));
        await database.WaitForIndexingAsync();
        long before = scanner.Queries;

        var jobs = new BackgroundJobs(() => database, () => 1.0f, NullLogger<BackgroundJobs>.Instance);
        await jobs.StartAsync();
        var (started, _) = await jobs.StartRunAsync(FaceDatabase.DefaultCollection, new ClusteringOptions { K = 12, Seed = 5 }, CancellationToken.None);
        Assert.NotNull(started);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!started.IsFinished)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.Equal(JobState.Succeeded, started.State);
        Assert.Equal(10, started.Count);
        Assert.Equal(100, scanner.Queries - before);
        await jobs.StopAsync();
    }

    /// <summary>The CPU scan, declared a device with no crossover, counting queries.</summary>
    private sealed class CountingDevice : IExactScanner
    {
        private readonly CpuExactScanner _cpu = new(2);
        private long _queries;

        public long Queries => Interlocked.Read(ref _queries);

        public string Description => "counting device";

        public bool IsDevice => true;

        public int SingleQueryCrossover => 0;

        public IScanCorpus CreateCorpus() => new Corpus(this, _cpu.CreateCorpus());

        private sealed class Corpus(CountingDevice owner, IScanCorpus inner) : IScanCorpus
        {
            public int Count => inner.Count;

            public void Sync(ReadOnlySpan<FaceVector> vectors, ReadOnlySpan<long> ids, int from) => inner.Sync(vectors, ids, from);

            public void Search(ReadOnlyMemory<FaceVector> queries, ReadOnlyMemory<long> excludedIds, int k, int minScore, Memory<ScanHit> hits, Memory<int> counts, Action<int>? progress = null, CancellationToken cancellationToken = default)
            {
                Interlocked.Add(ref owner._queries, queries.Length);
                inner.Search(queries, excludedIds, k, minScore, hits, counts, progress, cancellationToken);
            }

            public void Dispose() => inner.Dispose();
        }
    }
}
