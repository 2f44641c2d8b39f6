using FaceIndex.Index;
using FaceIndex.Storage;
using FaceIndex.Testing;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

/// <summary>The write path as a change feed: what the store commits, the indexes apply, in log order.</summary>
public sealed class ChangeFeedTests
{
    [Fact]
    public async Task A_write_cancelled_after_it_was_submitted_is_searchable_once_stored()
    {
        using var dir = TestPaths.NewTempDirectory();

        // Exact search (tail and graph scanned): this is about the write path, not a graph walk's recall.
        await using var database = await OpenAsync(dir, exactBelow: 100_000);
        var tasks = new List<(long Row, Task<AddFacesResult> Task)>();
        for (int row = 0; row < 300; row++)
        {
            // Cancelled the moment after the write is queued: the store commits it all the same.
            using var cancel = new CancellationTokenSource();
            tasks.Add((row, database.AddFacesAsync(FaceDatabase.DefaultCollection, "p" + row, [Face(row)], Model, null, null, cancel.Token)));
            cancel.Cancel();
        }

        int cancelled = 0;
        foreach (var (_, task) in tasks)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }
        }

        // The writes have all been taken by the writer; a retry-free barrier: one more write after them.
        await EnrollAsync(database, 300, 1);
        Assert.True(cancelled > 0, "no call was cancelled after submission: the test proves nothing");
        int stored = 0;
        foreach (var (row, _) in tasks)
        {
            if (database.TryGetPerson(FaceDatabase.DefaultCollection, "p" + row, out var person))
            {
                stored++;
                Assert.Equal(person.FaceIds[0], Nearest(database, Vector(row)));
            }
        }

        Assert.Equal(300, stored);

        // A retry of a cancelled write with the same image bytes answers Duplicate, and the face is found.
        var hash = new byte[32];
        hash[0] = 7;
        using (var cancel = new CancellationTokenSource())
        {
            var first = database.AddFacesAsync(FaceDatabase.DefaultCollection, "retry", [Face(500)], Model, hash, null, cancel.Token);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        }

        var retry = await database.AddFacesAsync(FaceDatabase.DefaultCollection, "retry", [Face(500)], Model, hash, null);
        Assert.True(retry.Duplicate);
        Assert.Equal(retry.Faces[0].FaceId, Nearest(database, Vector(500)));
    }

    [Fact]
    public async Task Cancelled_collection_creates_and_deletes_leave_the_indexes_agreeing_with_the_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        using (var cancel = new CancellationTokenSource())
        {
            var create = database.CreateCollectionAsync("gallery", cancel.Token);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => create);
        }

        await EnrollAsync(database, 0, 1);
        Assert.True(database.TryGetCollection("gallery", out _));
        Assert.Equal(0, database.Search("gallery", Vector(1), new Neighbor[1]));
        await EnrollAsync(database, 10, 20, "gallery");

        using (var cancel = new CancellationTokenSource())
        {
            var delete = database.DeleteCollectionAsync("gallery", cancel.Token);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delete);
        }

        // Re-created under the same name: the old index is gone, not reused.
        Assert.True(await database.CreateCollectionAsync("gallery"));
        Assert.Equal(0, database.Search("gallery", Vector(15), new Neighbor[5]));
        var fresh = await EnrollAsync(database, 40, 1, "gallery");
        Assert.Equal(fresh[0], Nearest(database, Vector(15), "gallery"));
    }

    [Fact]
    public async Task A_start_after_a_crash_replays_the_feed_from_the_snapshot_watermark()
    {
        using var dir = TestPaths.NewTempDirectory();
        var crashed = await OpenAsync(dir);
        var first = await EnrollAsync(crashed, 0, 1000);
        await crashed.WaitForIndexingAsync();
        await crashed.SnapshotAsync();

        // After the snapshot: faces, a face delete, a person delete, a collection deleted and re-created.
        var second = await EnrollAsync(crashed, 1000, 300);
        await crashed.DeleteFaceAsync(FaceDatabase.DefaultCollection, first[10]);
        Assert.NotNull(await crashed.DeletePersonAsync(FaceDatabase.DefaultCollection, "p1010"));
        await crashed.CreateCollectionAsync("other");
        await EnrollAsync(crashed, 2000, 50, "other");
        await crashed.DeleteCollectionAsync("other");
        await crashed.CreateCollectionAsync("other");
        var other = await EnrollAsync(crashed, 3000, 5, "other");

        // Checkpoints truncate the log, but not behind the snapshots' watermark.
        await crashed.Store.CheckpointAsync();
        crashed.Store.ReleaseDirectoryLockAsIfKilled();
        ChangeFeedTestsAbandoned.Keep(crashed);

        await using var database = await OpenAsync(dir);
        Assert.True(database.OpenedFromFeed);
        Assert.InRange(database.ReplayedAtOpen, 300, 2000);
        Assert.True(database.IndexedFaces >= 999, $"{database.IndexedFaces} faces in the graph at open");
        Assert.Equal(first[500], Nearest(database, Vector(500)));
        Assert.Equal(second[200], Nearest(database, Vector(1200)));
        Assert.NotEqual(first[10], Nearest(database, Vector(10)));
        Assert.NotEqual(second[10], Nearest(database, Vector(1010)));
        Assert.Equal(other[0], Nearest(database, Vector(3000), "other"));
        var hits = new Neighbor[10];
        Assert.Equal(5, database.Search("other", Vector(3000), hits));
        await database.WaitForIndexingAsync();
        Assert.Equal(1298 + 5, database.IndexedFaces);
    }

    [Fact]
    public async Task Waiting_for_the_graphs_ends_under_a_steady_write_load()
    {
        using var dir = TestPaths.NewTempDirectory();
        var indexing = Indexing();
        indexing.YieldAboveWritesPerSecond = 1;
        await using var database = await FaceDatabase.OpenAsync(DatabaseFixture.Storage(dir.Path), DatabaseFixture.Index(), indexing, Model);
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            int row = 0;
            while (!stop.IsCancellationRequested)
            {
                await EnrollAsync(database, row, 20);
                row += 20;
            }
        });
        await Task.Delay(500);
        long target = database.AppliedPosition;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await database.WaitForIndexingAsync(timeout.Token);
        Assert.True(database.IndexedPosition >= target);
        await stop.CancelAsync();
        await load;
    }
}

/// <summary>Databases a test "killed": kept referenced (their files stay open) until the process ends, as a dead process's would be gone.</summary>
internal static class ChangeFeedTestsAbandoned
{
    private static readonly List<FaceDatabase> s_kept = [];

    public static void Keep(FaceDatabase database)
    {
        lock (s_kept)
        {
            s_kept.Add(database);
        }
    }
}
