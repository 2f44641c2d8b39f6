using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Testing;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

public sealed class FaceDatabaseTests
{
    [Fact]
    public async Task An_acknowledged_face_is_found_at_once_before_and_after_it_reaches_the_graph()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        var ids = await EnrollAsync(database, 0, 2000);

        // Read-your-writes: every face is its own nearest neighbour right after the acknowledgement.
        for (int row = 0; row < 2000; row += 37)
        {
            Assert.Equal(ids[row], Nearest(database, Vector(row)));
        }

        await database.WaitForIndexingAsync();
        Assert.Equal(0, database.PendingFaces);
        Assert.Equal(2000, database.IndexedFaces);
        for (int row = 0; row < 2000; row += 37)
        {
            Assert.Equal(ids[row], Nearest(database, Vector(row)));
        }
    }

    [Fact]
    public async Task Deleted_faces_and_persons_are_never_returned_whether_pending_or_indexed()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        var ids = await EnrollAsync(database, 0, 600);

        // Some deletes land while the faces are still queued, some after they are in the graph.
        var deleted = new HashSet<long>();
        for (int row = 0; row < 300; row += 3)
        {
            Assert.NotNull(await database.DeleteFaceAsync(FaceDatabase.DefaultCollection, ids[row]));
            deleted.Add(ids[row]);
        }

        await database.WaitForIndexingAsync();
        for (int row = 300; row < 600; row += 3)
        {
            Assert.NotNull(await database.DeletePersonAsync(FaceDatabase.DefaultCollection, "p" + row));
            deleted.Add(ids[row]);
        }

        var results = new Neighbor[50];
        for (int row = 0; row < 600; row++)
        {
            int n = database.Search(FaceDatabase.DefaultCollection, Vector(row), results);
            Assert.Equal(50, n);
            foreach (var neighbor in results[..n])
            {
                Assert.DoesNotContain(neighbor.Id, deleted);
            }
        }
    }

    /// <summary>Databases left open on purpose, as a crashed process leaves its files: never disposed, kept from the finalizer.</summary>
    private static readonly List<FaceDatabase> s_abandoned = [];

    [Fact]
    public async Task A_crash_after_a_snapshot_loses_nothing_and_the_snapshot_is_reconciled_with_the_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        var crashed = await OpenAsync(dir);
        var first = await EnrollAsync(crashed, 0, 1500);
        await crashed.WaitForIndexingAsync();
        await crashed.SnapshotAsync();

        // After the snapshot: more faces and some deletes, which only the store knows of at the next start.
        var second = await EnrollAsync(crashed, 1500, 500);
        await crashed.DeleteFaceAsync(FaceDatabase.DefaultCollection, first[10]);
        await crashed.DeleteFaceAsync(FaceDatabase.DefaultCollection, second[10]);
        crashed.Store.ReleaseDirectoryLockAsIfKilled();
        lock (s_abandoned)
        {
            s_abandoned.Add(crashed);
        }

        await using (var database = await OpenAsync(dir))
        {
            // 1500 from the snapshot (one of them removed), 499 queued from the store.
            Assert.Equal(1998, database.GetStoreStats().Faces);
            Assert.True(database.IndexedFaces >= 1499, $"{database.IndexedFaces} faces in the graph at open");
            await database.WaitForIndexingAsync();
            Assert.Equal(1998, database.IndexedFaces);
            Assert.NotEqual(first[10], Nearest(database, Vector(10)));
            Assert.NotEqual(second[10], Nearest(database, Vector(1510)));
            Assert.Equal(first[700], Nearest(database, Vector(700)));
            Assert.Equal(second[300], Nearest(database, Vector(1800)));
        }

        // A clean restart reads the snapshot written at dispose and queues nothing.
        await using (var database = await OpenAsync(dir))
        {
            Assert.Equal(1998, database.IndexedFaces);
            Assert.Equal(0, database.PendingFaces);
        }
    }

    [Fact]
    public async Task A_corrupt_or_stale_snapshot_is_rebuilt_from_the_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        long[] ids;
        await using (var database = await OpenAsync(dir))
        {
            ids = await EnrollAsync(database, 0, 800);

            // A graph that holds faces, so that the close writes a snapshot to corrupt.
            await database.WaitForIndexingAsync();
        }

        var snapshot = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "index"), "*.hnsw"));
        var bytes = await File.ReadAllBytesAsync(snapshot);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(snapshot, bytes);
        await using (var database = await OpenAsync(dir))
        {
            // While the builder runs, a face just inserted can count in both for a moment: compare once it is done.
            await database.WaitForIndexingAsync();
            Assert.Equal(800, database.PendingFaces + database.IndexedFaces);
            Assert.Equal(ids[123], Nearest(database, Vector(123)));
        }

        // Other graph parameters than the snapshot's: rebuilt too.
        await using (var database = await OpenAsync(dir, m: 8))
        {
            Assert.Equal(0, database.IndexedFaces);
            await database.WaitForIndexingAsync();
            Assert.Equal(800, database.IndexedFaces);
            Assert.Equal(ids[456], Nearest(database, Vector(456)));
        }
    }

    [Fact]
    public async Task Collections_are_isolated_and_a_deleted_collection_takes_its_index_with_it()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        Assert.True(await database.CreateCollectionAsync("gallery"));
        Assert.False(await database.CreateCollectionAsync("gallery"));
        var inDefault = await EnrollAsync(database, 0, 100);
        var inGallery = await EnrollAsync(database, 100, 100, "gallery");

        // The nearest face within each collection, even for a query that belongs to the other one.
        Assert.Contains(Nearest(database, Vector(150)), inDefault);
        Assert.Contains(Nearest(database, Vector(50), "gallery"), inGallery);

        // Both graphs hold their faces before the snapshot, so that each collection has a file.
        await database.WaitForIndexingAsync();
        await database.SnapshotAsync();
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "index"), "*.hnsw").Length);
        Assert.Equal(100, await database.DeleteCollectionAsync("gallery"));
        Assert.Null(await database.DeleteCollectionAsync("gallery"));
        var error = Assert.Throws<FaceIndexException>(() => database.Search("gallery", Vector(1), new Neighbor[1]));
        Assert.Equal(FaceIndexError.NotFound, error.Error);
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "index"), "*.hnsw"));
    }

    [Fact]
    public async Task Small_collections_are_searched_exactly()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir, exactBelow: 10_000);
        await EnrollAsync(database, 0, 3000);
        await database.WaitForIndexingAsync();

        using var exact = new ExactIndex();
        foreach (long row in Enumerable.Range(0, 3000))
        {
            exact.Add(row, Vector(row));
        }

        var expected = new Neighbor[10];
        var actual = new Neighbor[10];
        var x = new float[FaceVector.Dimensions];
        for (int q = 0; q < 50; q++)
        {
            SyntheticFaces.QueryRow(q, 100_000, x);
            var query = Quantizer.Quantize(x);
            exact.Search(query, expected);
            database.Search(FaceDatabase.DefaultCollection, query, actual);
            Assert.Equal(expected.Select(e => e.Score), actual.Select(a => a.Score));
        }
    }

    [Fact]
    public async Task Concurrent_enrols_deletes_and_searches_agree_with_the_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var ids = await EnrollAsync(database, w * 500, 500);
            for (int i = 0; i < 500; i += 5)
            {
                await database.DeleteFaceAsync(FaceDatabase.DefaultCollection, ids[i]);
            }
        })).ToArray();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var results = new Neighbor[10];
            for (int i = 0; i < 400; i++)
            {
                database.Search(FaceDatabase.DefaultCollection, Vector((i * 7) % 2000), results);
            }
        })).ToArray();
        await Task.WhenAll([.. writers, .. readers]);
        await database.WaitForIndexingAsync();

        var live = database.GetFaceIds(FaceDatabase.DefaultCollection).ToHashSet();
        Assert.Equal(1600, live.Count);
        Assert.Equal(1600, database.IndexedFaces);
        var found = new Neighbor[20];
        for (int row = 0; row < 2000; row += 11)
        {
            int n = database.Search(FaceDatabase.DefaultCollection, Vector(row), found);
            Assert.All(found[..n], f => Assert.Contains(f.Id, live));
        }
    }
}
