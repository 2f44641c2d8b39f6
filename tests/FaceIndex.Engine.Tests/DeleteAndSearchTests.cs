using FaceIndex.Index;
using FaceIndex.Testing;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

/// <summary>Deletes against search: the graph is repaired by the builder, and a search counts only faces the store holds.</summary>
public sealed class DeleteAndSearchTests
{
    [Fact]
    public async Task Deletes_past_the_repair_threshold_are_repaired_by_the_background_builder()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        var ids = await EnrollAsync(database, 0, 1000);
        await database.WaitForIndexingAsync();
        Assert.True(database.TryGetGraph(FaceDatabase.DefaultCollection, out var graph, out _));

        // A fifth of the faces, past the default threshold of a tenth.
        for (int row = 0; row < 200; row++)
        {
            Assert.NotNull(await database.DeleteFaceAsync(FaceDatabase.DefaultCollection, ids[row]));
        }

        // The builder repairs whenever the deleted faces pass the threshold, so at most a tenth stay
        // tombstoned once it is done (the last deletes, under the threshold, wait for more).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (graph.NeedsRepair || graph.DeletedCount >= 100)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.Equal(800, graph.Count);
        var results = new Neighbor[10];
        for (int row = 0; row < 1000; row += 7)
        {
            int n = database.Search(FaceDatabase.DefaultCollection, Vector(row), results);
            Assert.Equal(10, n);
            Assert.All(results, r => Assert.True(Array.IndexOf(ids, r.Id) >= 200));
            if (row >= 200)
            {
                // Among the ten (an approximate walk: an exact first place failed once in a loaded run).
                Assert.Contains(ids[row], results.Select(r => r.Id));
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_000)]
    public async Task A_search_returns_top_k_faces_of_the_store_when_the_index_still_holds_deleted_ones(int exactBelow)
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir, exactBelow);
        var ids = await EnrollAsync(database, 0, 500);
        await database.WaitForIndexingAsync();
        Assert.True(database.TryGetGraph(FaceDatabase.DefaultCollection, out var graph, out _));

        // The state between a delete's commit in the store and the face's removal from the index
        // (the index applies the store's changes after them): faces the index holds and the store
        // no longer does, here copies of row 0 under ids the store never had, so that they rank first.
        for (long id = 1; id <= 20; id++)
        {
            graph.Add(-id, Vector(0));
        }

        var results = new Neighbor[10];
        int n = database.Search(FaceDatabase.DefaultCollection, Vector(0), results);
        Assert.Equal(10, n);
        Assert.All(results[..n], r => Assert.Contains(r.Id, ids));
        Assert.Equal(ids[0], results[0].Id);

        if (exactBelow == 0)
        {
            return;
        }

        // Past the faces there are (the exact scan): every face of the store, none of the stale ones.
        var all = new Neighbor[600];
        n = database.Search(FaceDatabase.DefaultCollection, Vector(0), all);
        Assert.Equal(500, n);
        Assert.Equal(ids.Order(), all[..n].Select(r => r.Id).Order());
        for (int i = 1; i < n; i++)
        {
            Assert.True(all[i - 1].Score >= all[i].Score);
        }
    }
}
