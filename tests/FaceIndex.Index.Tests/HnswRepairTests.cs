namespace FaceIndex.Index.Tests;

/// <summary>
/// Repair as a background step: a remove only tombstones; the owner of the index calls
/// HnswIndex.RepairStep while searches, inserts and removes go on.
/// </summary>
public sealed class HnswRepairTests
{
    [Fact]
    public void A_remove_past_the_threshold_only_tombstones_and_asks_for_repair()
    {
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0.2, EfConstruction = 64 });
        var vectors = TestData.Set(1000).Vectors;
        for (int row = 0; row < 1000; row++)
        {
            index.Add(row, vectors[row]);
        }

        for (int row = 0; row < 200; row++)
        {
            Assert.True(index.Remove(row));
        }

        Assert.False(index.NeedsRepair);
        int slots = index.SlotsInUse;

        // Past the threshold: the remove returns with the slot still in the graph, and nothing is freed.
        Assert.True(index.Remove(200));
        Assert.Equal(201, index.DeletedCount);
        Assert.Equal(slots, index.SlotsInUse);
        Assert.True(index.NeedsRepair);

        // Small steps until the work is done; the freed slots then take new vectors.
        int steps = 0;
        while (index.RepairStep(64))
        {
            steps++;
            Assert.True(steps < 10_000, "the repair does not end");
        }

        Assert.True(steps > 1000 / 64, $"{steps} steps: the budget was not respected");
        Assert.Equal(0, index.DeletedCount);
        Assert.False(index.NeedsRepair);
        Assert.Equal(799, index.Count);
        var results = new Neighbor[10];
        Assert.Equal(10, index.Search(vectors[500], results));
        Assert.Equal(500, results[0].Id);
        Assert.All(results, r => Assert.True(r.Id > 200));
        index.Add(5000, vectors[0]);
        Assert.Equal(slots, index.SlotsInUse);
    }

    [Fact]
    public void A_step_with_a_cancelled_token_throws_and_the_next_step_resumes()
    {
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0.05, EfConstruction = 32 });
        var vectors = TestData.Set(1000).Vectors;
        for (int row = 0; row < 1000; row++)
        {
            index.Add(row, vectors[row]);
        }

        for (int row = 0; row < 100; row++)
        {
            index.Remove(row * 10);
        }

        Assert.True(index.RepairStep(100));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => index.RepairStep(100, cancelled.Token));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.RepairStep(0));
        index.Repair();
        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(900, index.Count);
    }

    [Fact]
    public async Task Repair_steps_beside_searches_inserts_and_removes_never_return_a_removed_face_nor_a_wrong_score()
    {
        const int size = 8000;
        const int preloaded = 4000;
        var set = TestData.Set(size);
        var vectors = set.Vectors;
        var ids = set.Ids;
        using var index = new HnswIndex(new IndexOptions { EfConstruction = 64, RepairThreshold = 0.02 });
        index.AddRange(ids.AsMemory(0, preloaded), vectors.AsMemory(0, preloaded), maxDegreeOfParallelism: 2);

        // removedAt[row]: the removal count once the remove of that row had returned (0 = live).
        var removedAt = new long[size];
        long removals = 0;
        using var done = new CancellationTokenSource();

        long Search(int seed)
        {
            var results = new Neighbor[32];
            long searches = 0;
            while (!done.IsCancellationRequested)
            {
                long before = Volatile.Read(ref removals);
                var query = vectors[(int)(((searches * 2) + seed) * 7919 % size)];
                int n = searches % 8 == 0 ? index.SearchExact(query, results) : index.Search(query, results, 200);
                for (int i = 0; i < n; i++)
                {
                    int row = (int)(results[i].Id - ids[0]);
                    long at = Volatile.Read(ref removedAt[row]);
                    Assert.False(at != 0 && at <= before, $"face {results[i].Id} was returned after its removal had returned");

                    // A slot freed and taken by another face during the search would pair an id with another vector's score.
                    Assert.Equal(query.Dot(vectors[row]), results[i].Score);
                }

                searches++;
            }

            return searches;
        }

        // Two searchers with a wide beam: on a busy machine a search is often preempted halfway, which
        // is when a slot freed and taken again under it would show.
        var searchers = new Task<long>[2];
        for (int t = 0; t < searchers.Length; t++)
        {
            int seed = t;
            searchers[t] = Task.Factory.StartNew(() => Search(seed), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        var repairer = Task.Factory.StartNew(() =>
        {
            long steps = 0;
            while (!done.IsCancellationRequested)
            {
                if (index.RepairStep(128))
                {
                    steps++;
                }
                else
                {
                    Thread.Sleep(1);
                }
            }

            return steps;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var deleter = Task.Factory.StartNew(() =>
        {
            // Every 4th identity, in insertion order, as soon as its face is in the index.
            int removed = 0;
            for (int row = 0; row < size; row++)
            {
                if (set.Identities[row] % 4 != 0)
                {
                    continue;
                }

                SpinWait.SpinUntil(() => index.Contains(ids[row]));
                Assert.True(index.Remove(ids[row]));
                Volatile.Write(ref removedAt[row], Interlocked.Increment(ref removals));
                removed++;
            }

            return removed;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.Run(() =>
        {
            for (int row = preloaded; row < size; row++)
            {
                if (row == size * 3 / 4)
                {
                    // The last quarter goes in once repair has freed slots, so that inserts take freed
                    // slots while the searches run (on a loaded machine the repairer can lag the inserts).
                    SpinWait.SpinUntil(() => index.SlotsInUse < row, TimeSpan.FromSeconds(60));
                }

                index.Add(ids[row], vectors[row]);
            }
        });
        int deleted = await deleter;
        await done.CancelAsync();
        long searches = (await Task.WhenAll(searchers)).Sum();
        long steps = await repairer;

        Assert.True(searches > 0 && steps > 0, $"{searches} searches, {steps} repair steps");

        // Slots were freed and taken again while the searches ran.
        Assert.True(index.SlotsInUse < size, $"{index.SlotsInUse} slots for {size} inserts: no slot was reused");
        index.Repair();
        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(size - deleted, index.Count);
        using var exact = new ExactIndex();
        for (int row = 0; row < size; row++)
        {
            if (set.Identities[row] % 4 != 0)
            {
                exact.Add(ids[row], vectors[row]);
            }
        }

        var liveQueries = set.QueriesWhere(identity => identity % 4 != 0);
        double recall = TestData.Recall(index, exact, liveQueries);
        Assert.True(recall >= 0.95, $"recall@10 of the live faces {recall:F4}");
        var results = new Neighbor[10];
        foreach (var query in set.QueriesWhere(identity => identity % 4 == 0))
        {
            int n = index.Search(query, results);
            Assert.Equal(10, n);
            Assert.All(results, r => Assert.NotEqual(0, set.Identities[(int)(r.Id - ids[0])] % 4));
        }
    }
}
