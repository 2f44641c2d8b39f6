
namespace FaceIndex.Index.Tests;

public sealed class HnswConcurrencyTests
{
    [Fact]
    public async Task Concurrent_inserts_searches_and_deletes_run_without_faults_and_end_with_good_recall()
    {
        const int size = 12_000;
        var set = TestData.Set(size);
        var vectors = set.Vectors;
        var ids = set.Ids;

        // Start tiny so that the storage grows many times under the concurrent load.
        using var index = new HnswIndex(new IndexOptions { InitialCapacity = 16, EfConstruction = 100, RepairThreshold = 0 });
        using var done = new CancellationTokenSource();
        // Searcher and deleter on threads of their own: on two cores the thread pool could start
        // them only after the inserts had finished, and then nothing would run concurrently.
        var searcher = Task.Factory.StartNew(() =>
        {
            var results = new Neighbor[10];
            long searches = 0;
            while (!done.IsCancellationRequested)
            {
                var query = set.Queries[(int)(searches % set.Queries.Length)];
                int n = index.Search(query, results);
                Assert.InRange(n, 0, 10);
                for (int i = 1; i < n; i++)
                {
                    Assert.True(results[i - 1].Score >= results[i].Score);
                }

                // The exact scan reads slots as they are taken: it must only score written vectors.
                if (searches % 16 == 0)
                {
                    n = index.SearchExact(query, results);
                    for (int i = 0; i < n; i++)
                    {
                        Assert.Equal(query.Dot(vectors[(int)(results[i].Id - ids[0])]), results[i].Score);
                    }
                }

                searches++;
            }

            return searches;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var deleter = Task.Factory.StartNew(() =>
        {
            // Whole identities (every 7th) among the first half of the inserts.
            int removed = 0;
            for (int row = 0; row < size / 2; row++)
            {
                if (set.Identities[row] % 7 != 0)
                {
                    continue;
                }

                while (!index.Contains(ids[row]))
                {
                    Thread.Yield();
                }

                Assert.True(index.Remove(ids[row]));
                removed++;
            }

            return removed;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.Run(() => index.AddRange(ids, vectors, maxDegreeOfParallelism: 2));
        int deleted = await deleter;
        await done.CancelAsync();
        long searches = await searcher;

        Assert.True(searches > 0);
        Assert.Equal(size - deleted, index.Count);
        using var exact = new ExactIndex();
        for (int row = 0; row < size; row++)
        {
            if (index.Contains(ids[row]))
            {
                exact.Add(ids[row], vectors[row]);
            }
        }

        Assert.Equal(size - deleted, exact.Count);
        var liveQueries = set.QueriesWhere(identity => identity % 7 != 0);
        double recall = TestData.Recall(index, exact, liveQueries);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F4}");
        index.Repair();
        recall = TestData.Recall(index, exact, liveQueries);
        Assert.True(recall >= 0.95, $"recall@10 after repair {recall:F4}");
    }

    [Fact]
    public void A_single_threaded_build_is_deterministic()
    {
        var vectors = TestData.Set(3000).Vectors;
        var ids = TestData.Set(3000).Ids;
        using var a = new HnswIndex(new IndexOptions { EfConstruction = 64, Seed = 5 });
        using var b = new HnswIndex(new IndexOptions { EfConstruction = 64, Seed = 5 });
        a.AddRange(ids, vectors, maxDegreeOfParallelism: 1);
        b.AddRange(ids, vectors, maxDegreeOfParallelism: 1);
        using var sa = new MemoryStream();
        using var sb = new MemoryStream();
        a.Save(sa, 0);
        b.Save(sb, 0);
        Assert.True(sa.ToArray().AsSpan().SequenceEqual(sb.ToArray()));
    }
}
