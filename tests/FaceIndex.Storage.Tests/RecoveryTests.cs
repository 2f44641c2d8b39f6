using System.Collections.Concurrent;
using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

/// <summary>Restart and crash recovery: every acknowledged write survives, nothing else appears.</summary>
public sealed class RecoveryTests
{
    /// <summary>Stores abandoned without dispose, as a killed process leaves them; kept alive so that no finalizer touches their files.</summary>
    private static readonly ConcurrentBag<FaceStore> s_abandoned = [];

    [Fact]
    public async Task Clean_restart_restores_identical_state()
    {
        using var dir = TestPaths.NewTempDirectory();
        Snapshot before;
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            await PopulateAsync(store);
            before = Snapshot.Of(store);
        }

        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            before.AssertSame(Snapshot.Of(store));
            Assert.NotNull(store.GetStats().LastCheckpoint);

            // The log keeps what follows the checkpoint before the latest; a second one with nothing new empties it.
            await store.CheckpointAsync();
            Assert.Equal(0, store.GetStats().LogBytes);
        }
    }

    [Fact]
    public async Task A_second_store_on_a_directory_in_use_is_refused_and_the_first_keeps_working()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            var refused = await Assert.ThrowsAsync<FaceIndexException>(() => StoreFixture.OpenAsync(dir.Path));
            Assert.Equal(FaceIndexError.StorageUnavailable, refused.Error);
            Assert.Contains("in use by another FaceIndex server or tool", refused.Message, StringComparison.Ordinal);
            Assert.Contains(dir.Path, refused.Message, StringComparison.Ordinal);

            var added = await store.AddFacesAsync("default", "p", [StoreFixture.Face(1)], StoreFixture.Model, null, null);
            Assert.Single(added.Faces);
        }

        // Closed: the directory is free again, and the write made while the other open was refused is there.
        await using var reopened = await StoreFixture.OpenAsync(dir.Path);
        Assert.Equal(1, reopened.GetStats().Faces);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_person_of_each_face_is_known_from_memory_after_a_restart_or_a_crash(bool crash)
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        var alice = await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1), StoreFixture.Face(2)], StoreFixture.Model, null, null);
        var bob = await store.AddFacesAsync("default", "bob", [StoreFixture.Face(3)], StoreFixture.Model, null, null);
        var carol = await store.AddFacesAsync("default", "carol", [StoreFixture.Face(4)], StoreFixture.Model, null, null);
        await store.CheckpointAsync();
        await store.DeleteFaceAsync("default", alice.Faces[0].FaceId);
        await store.DeletePersonAsync("default", "bob");
        if (crash)
        {
            Abandon(store);
        }
        else
        {
            await store.DisposeAsync();
        }

        await using var reopened = await StoreFixture.OpenAsync(dir.Path);
        Assert.False(reopened.TryGetFacePerson("default", alice.Faces[0].FaceId, out _));
        Assert.True(reopened.TryGetFacePerson("default", alice.Faces[1].FaceId, out var second));
        Assert.Equal("alice", second);
        Assert.False(reopened.TryGetFacePerson("default", bob.Faces[0].FaceId, out _));
        Assert.True(reopened.TryGetFacePerson("default", carol.Faces[0].FaceId, out var third));
        Assert.Equal("carol", third);
    }

    [Fact]
    public async Task Crash_without_checkpoint_replays_the_log()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        await PopulateAsync(store);
        var before = Snapshot.Of(store);
        Abandon(store);

        await using var recovered = await StoreFixture.OpenAsync(dir.Path);
        before.AssertSame(Snapshot.Of(recovered));
        Assert.Null(recovered.GetStats().LastCheckpoint);
    }

    [Fact]
    public async Task Crash_after_checkpoint_replays_only_the_tail()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        await PopulateAsync(store);
        await store.CheckpointAsync();
        var kept = store.GetStats().LogBytes;
        Assert.True(kept > 0, "the log keeps the entries after the previous checkpoint (none: all of them)");
        await store.CheckpointAsync();
        var checkpointed = store.GetStats();
        Assert.NotNull(checkpointed.LastCheckpoint);
        Assert.Equal(0, checkpointed.LogBytes);

        // Changes after the checkpoint touch records it holds: deletes, re-adds, metadata, blobs.
        await store.DeletePersonAsync("default", "person-3");
        await store.AddFacesAsync("default", "person-4", [StoreFixture.Face(900)], StoreFixture.Model, StoreFixture.Hash(900), null);
        await store.SetPersonMetadataAsync("default", "person-5", new Dictionary<string, string> { ["after"] = "checkpoint" });
        await store.PutBlobAsync("after", new byte[] { 1, 2, 3 });
        Assert.True(await store.CreateCollectionAsync("late", StoreFixture.Model));
        await store.AddFacesAsync("late", "x", [StoreFixture.Face(901)], StoreFixture.Model, null, null);
        Assert.True(store.GetStats().LogBytes > 0);
        var before = Snapshot.Of(store);
        Abandon(store);

        await using var recovered = await StoreFixture.OpenAsync(dir.Path);
        before.AssertSame(Snapshot.Of(recovered));
        Assert.Equal(checkpointed.LastCheckpoint, recovered.GetStats().LastCheckpoint);
    }

    [Fact]
    public async Task Repeated_crashes_and_checkpoints_converge()
    {
        using var dir = TestPaths.NewTempDirectory();
        var expected = new HashSet<long>();
        var store = await StoreFixture.WithCollectionAsync(dir);
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 20; i++)
            {
                var result = await store.AddFacesAsync("default", $"r{round}-{i % 3}", [StoreFixture.Face((round * 100) + i)], StoreFixture.Model, StoreFixture.Hash((round * 100) + i), null);
                expected.Add(result.Faces[0].FaceId);
            }

            var victim = expected.Min();
            Assert.NotNull(await store.DeleteFaceAsync("default", victim));
            expected.Remove(victim);
            if (round % 2 == 0)
            {
                await store.CheckpointAsync();
            }

            Abandon(store);
            store = await StoreFixture.OpenAsync(dir.Path);
            Assert.Equal(expected.Order(), store.EnumerateFaces("default").Select(f => f.FaceId));
        }

        await store.DisposeAsync();
    }

    [Fact]
    public async Task Face_ids_stay_monotonic_across_restarts_even_after_deleting_the_newest()
    {
        using var dir = TestPaths.NewTempDirectory();
        long newest;
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            var added = await store.AddFacesAsync("default", "a", [StoreFixture.Face(1), StoreFixture.Face(2)], StoreFixture.Model, null, null);
            newest = added.Faces[^1].FaceId;
            await store.DeleteFaceAsync("default", newest);
        }

        // Clean restart: the counter comes from the checkpoint.
        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            var next = await store.AddFacesAsync("default", "a", [StoreFixture.Face(3)], StoreFixture.Model, null, null);
            Assert.True(next.Faces[0].FaceId > newest);
            newest = next.Faces[0].FaceId;
            await store.DeletePersonAsync("default", "a");
            Abandon(store);
        }

        // Crash: the counter comes from the replayed log.
        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            var next = await store.AddFacesAsync("default", "b", [StoreFixture.Face(4)], StoreFixture.Model, null, null);
            Assert.True(next.Faces[0].FaceId > newest);
        }
    }

    [Fact]
    public async Task Concurrent_writers_lose_no_acknowledged_write()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        var acknowledged = new ConcurrentDictionary<long, string>();
        var sequences = new ConcurrentBag<long>();
        var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var person = $"w{w}-p{i % 4}";
                var result = await store.AddFacesAsync("default", person, [StoreFixture.Face((w * 1000) + i)], StoreFixture.Model, null, null);
                acknowledged[result.Faces[0].FaceId] = person;
                sequences.Add(result.Faces[0].Sequence);
                if (i == 20 && w == 0)
                {
                    await store.CheckpointAsync();
                }

                // Readers run beside the writers.
                Assert.True(store.TryGetFace(result.Faces[0].FaceId, out _));
            }
        })).ToArray();
        await Task.WhenAll(writers);
        Assert.Equal(640, acknowledged.Count);
        Abandon(store);

        await using var recovered = await StoreFixture.OpenAsync(dir.Path);
        Assert.Equal(640, recovered.CountFaces("default"));
        foreach (var (faceId, person) in acknowledged)
        {
            Assert.True(recovered.TryGetFace(faceId, out var face));
            Assert.Equal(person, face.PersonId);
        }

        Assert.Equal(64, recovered.GetStats().Persons);
        Assert.Equal(sequences.Max(), recovered.GetStats().LastSequence);
    }

    [Fact]
    public async Task Write_after_dispose_is_refused()
    {
        using var dir = TestPaths.NewTempDirectory();
        var store = await StoreFixture.WithCollectionAsync(dir);
        await store.DisposeAsync();
        await store.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.CreateCollectionAsync("x", StoreFixture.Model));
    }

    private static void Abandon(FaceStore store)
    {
        store.ReleaseDirectoryLockAsIfKilled();
        s_abandoned.Add(store);
    }

    /// <summary>A mix of every kind of write.</summary>
    private static async Task PopulateAsync(FaceStore store)
    {
        Assert.True(await store.CreateCollectionAsync("second", "other-model"));
        for (var i = 0; i < 30; i++)
        {
            var tags = i % 2 == 0 ? new Dictionary<string, string> { ["i"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) } : null;
            await store.AddFacesAsync("default", $"person-{i % 8}", [StoreFixture.Face(i), StoreFixture.Face(i + 500)], StoreFixture.Model, i % 3 == 0 ? StoreFixture.Hash(i) : null, tags);
        }

        await store.AddFacesAsync("second", "solo", [StoreFixture.Face(77)], "other-model", null, null);
        var first = store.EnumerateFaces("default").First();
        await store.DeleteFaceAsync("default", first.FaceId);
        await store.DeletePersonAsync("default", "person-7");
        await store.SetPersonMetadataAsync("default", "person-1", new Dictionary<string, string> { ["name"] = "One" });
        await store.PutBlobAsync("jobs/a", new byte[] { 9, 8, 7 });
        await store.PutBlobAsync("jobs/b", new byte[] { 1 });
        await store.DeleteBlobAsync("jobs/b");
        Assert.True(await store.CreateCollectionAsync("gone", StoreFixture.Model));
        await store.AddFacesAsync("gone", "p", [StoreFixture.Face(5)], StoreFixture.Model, null, null);
        Assert.True(await store.DeleteCollectionAsync("gone"));
    }

    /// <summary>Everything observable through the public API, for comparing two stores.</summary>
    private sealed record Snapshot(string Collections, string Faces, string Persons, string Blobs, long LastSequence, long Stats)
    {
        public static Snapshot Of(FaceStore store)
        {
            var collections = store.ListCollections();
            var faces = new List<string>();
            var persons = new List<string>();
            foreach (var collection in collections)
            {
                foreach (var face in store.EnumerateFaces(collection.Name))
                {
                    faces.Add($"{face.FaceId}|{face.Collection}|{face.PersonId}|{face.Vector.ToBase64()}|{face.ModelVersion}|{Convert.ToHexString(face.ContentHash ?? [])}|{face.Box}|{face.DetectionScore}|{face.CreatedAt.UtcTicks}|{string.Join(',', face.Tags.OrderBy(t => t.Key))}|{face.Sequence}");
                }

                string? token = null;
                do
                {
                    var page = store.ListPersons(collection.Name, 3, token);
                    persons.AddRange(page.Persons.Select(p => $"{p.Collection}|{p.PersonId}|{string.Join(',', p.FaceIds)}|{string.Join(',', p.Metadata.OrderBy(m => m.Key))}|{p.CreatedAt.UtcTicks}"));
                    token = page.NextPageToken;
                }
                while (token is not null);
            }

            var blobs = store.ListBlobKeys("").Select(k => store.TryGetBlob(k, out var v) ? k + "=" + Convert.ToHexString(v) : k);
            var stats = store.GetStats();
            return new Snapshot(
                string.Join('\n', collections.Select(c => $"{c.Name}|{c.ModelVersion}|{c.CreatedAt.UtcTicks}|{c.FaceCount}|{c.PersonCount}")),
                string.Join('\n', faces),
                string.Join('\n', persons),
                string.Join('\n', blobs),
                stats.LastSequence,
                (stats.Faces * 1_000_000) + (stats.Persons * 1000) + stats.Collections);
        }

        public void AssertSame(Snapshot other)
        {
            Assert.NotEmpty(Faces);
            Assert.Equal(Collections, other.Collections);
            Assert.Equal(Faces, other.Faces);
            Assert.Equal(Persons, other.Persons);
            Assert.Equal(Blobs, other.Blobs);
            Assert.Equal(LastSequence, other.LastSequence);
            Assert.Equal(Stats, other.Stats);
        }
    }
}
