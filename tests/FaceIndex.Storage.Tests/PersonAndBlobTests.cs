using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

public sealed class PersonAndBlobTests
{
    [Fact]
    public async Task Paging_visits_every_person_once_in_ordinal_order()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var random = new Random(5);
        var ids = Enumerable.Range(0, 137).Select(i => $"person-{random.Next(100_000):D5}-{i}").ToList();
        var requests = ids.Select((id, i) => new AddFacesRequest("default", id, [StoreFixture.Face(i)], StoreFixture.Model, null, null)).ToList();
        await store.AddFacesBatchAsync(requests);

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = store.ListPersons("default", 10, token);
            Assert.True(page.Persons.Count <= 10);
            seen.AddRange(page.Persons.Select(p => p.PersonId));
            token = page.NextPageToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(14, pages);
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen);

        // A page resumes after the last id even when that person is deleted meanwhile.
        var first = store.ListPersons("default", 5, null);
        await store.DeletePersonAsync("default", first.Persons[^1].PersonId);
        var second = store.ListPersons("default", 5, first.NextPageToken);
        Assert.Equal(seen.Skip(5).Take(5), second.Persons.Select(p => p.PersonId));
    }

    [Fact]
    public async Task Paging_errors()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        Assert.Equal(FaceIndexError.NotFound, Assert.Throws<FaceIndexException>(() => store.ListPersons("missing", 10, null)).Error);
        Assert.Equal(FaceIndexError.InvalidArgument, Assert.Throws<FaceIndexException>(() => store.ListPersons("default", 0, null)).Error);
        Assert.Equal(FaceIndexError.InvalidArgument, Assert.Throws<FaceIndexException>(() => store.ListPersons("default", 10, "***")).Error);
        var empty = store.ListPersons("default", 10, null);
        Assert.Empty(empty.Persons);
        Assert.Null(empty.NextPageToken);
    }

    [Fact]
    public async Task Metadata_is_replaced_and_can_create_a_person()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        await store.SetPersonMetadataAsync("default", "carol", new Dictionary<string, string> { ["name"] = "Carol", ["team"] = "A" });
        Assert.True(store.TryGetPerson("default", "carol", out var carol));
        Assert.Empty(carol.FaceIds);
        Assert.Equal("Carol", carol.Metadata["name"]);

        var added = await store.AddFacesAsync("default", "carol", [StoreFixture.Face(1)], StoreFixture.Model, null, null);
        await store.SetPersonMetadataAsync("default", "carol", new Dictionary<string, string> { ["name"] = "Carol B." });
        Assert.True(store.TryGetPerson("default", "carol", out carol));
        Assert.Equal([added.Faces[0].FaceId], carol.FaceIds);
        Assert.Equal(new Dictionary<string, string> { ["name"] = "Carol B." }, carol.Metadata);
        Assert.Equal(1, store.GetStats().Persons);

        var ex = await Assert.ThrowsAsync<FaceIndexException>(() => store.SetPersonMetadataAsync("missing", "carol", new Dictionary<string, string>()));
        Assert.Equal(FaceIndexError.NotFound, ex.Error);
    }

    [Fact]
    public async Task Faces_move_between_persons_and_a_rename_carries_everything_through_replay_and_checkpoint()
    {
        using var dir = TestPaths.NewTempDirectory();
        long[] alice, bob;
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            // Alice: two faces of one image (one content hash) and one of another; Bob: one face.
            alice = [.. (await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1), StoreFixture.Face(2)], StoreFixture.Model, StoreFixture.Hash(1), null)).Faces.Select(f => f.FaceId)];
            alice = [.. alice, (await store.AddFacesAsync("default", "alice", [StoreFixture.Face(3)], StoreFixture.Model, StoreFixture.Hash(3), null)).Faces[0].FaceId];
            bob = [(await store.AddFacesAsync("default", "bob", [StoreFixture.Face(4)], StoreFixture.Model, StoreFixture.Hash(4), null)).Faces[0].FaceId];
            await store.SetPersonMetadataAsync("default", "alice", new Dictionary<string, string> { ["name"] = "Alice" });
            await store.CheckpointAsync();

            // One of the image's two faces goes to Bob: the hash now names faces of both.
            var moved = await store.MoveFacesAsync("default", [alice[1], bob[0]], "bob");
            Assert.Equal([alice[1]], moved);
            AssertOwner(store, alice[1], "bob");
            Assert.Equal([alice[0]], store.FindByContentHash("default", "alice", StoreFixture.Hash(1))!.Select(f => f.FaceId));
            Assert.Equal([alice[1]], store.FindByContentHash("default", "bob", StoreFixture.Hash(1))!.Select(f => f.FaceId));

            // Rename: faces, hashes, metadata and creation time go to the new id; the old id is gone.
            Assert.True(store.TryGetPerson("default", "alice", out var before));
            await store.RenamePersonAsync("default", "alice", "alice-smith");
            Assert.False(store.TryGetPerson("default", "alice", out _));
            Assert.True(store.TryGetPerson("default", "alice-smith", out var renamed));
            Assert.Equal([alice[0], alice[2]], renamed.FaceIds);
            Assert.Equal("Alice", renamed.Metadata["name"]);
            Assert.Equal(before.CreatedAt, renamed.CreatedAt);
            Assert.Null(store.FindByContentHash("default", "alice", StoreFixture.Hash(3)));
            Assert.Equal([alice[2]], store.FindByContentHash("default", "alice-smith", StoreFixture.Hash(3))!.Select(f => f.FaceId));
            Assert.Equal(2, store.GetStats().Persons);

            // Refusals change nothing.
            Assert.Equal(FaceIndexError.AlreadyExists, (await Assert.ThrowsAsync<FaceIndexException>(() => store.RenamePersonAsync("default", "bob", "alice-smith"))).Error);
            Assert.Equal(FaceIndexError.NotFound, (await Assert.ThrowsAsync<FaceIndexException>(() => store.RenamePersonAsync("default", "nobody", "x"))).Error);
            Assert.Equal(FaceIndexError.NotFound, (await Assert.ThrowsAsync<FaceIndexException>(() => store.MoveFacesAsync("default", [alice[0], 999_999], "bob"))).Error);
            Assert.Equal(FaceIndexError.InvalidArgument, (await Assert.ThrowsAsync<FaceIndexException>(() => store.MoveFacesAsync("default", [], "bob"))).Error);
            AssertOwner(store, alice[0], "alice-smith");
        }

        // Reopened: the moves replay from the log after the checkpoint; then once more from a checkpoint.
        for (int round = 0; round < 2; round++)
        {
            await using var store = await StoreFixture.OpenAsync(dir.Path);
            AssertOwner(store, alice[0], "alice-smith");
            AssertOwner(store, alice[1], "bob");
            AssertOwner(store, alice[2], "alice-smith");
            AssertOwner(store, bob[0], "bob");
            Assert.False(store.TryGetPerson("default", "alice", out _));
            Assert.True(store.TryGetPerson("default", "bob", out var bobNow));
            Assert.Equal([bob[0], alice[1]], bobNow.FaceIds);
            Assert.Equal(2, store.GetStats().Persons);
            Assert.Equal(4, store.GetStats().Faces);
            await store.CheckpointAsync();
        }

        static void AssertOwner(FaceStore store, long faceId, string personId)
        {
            Assert.True(store.TryGetFace(faceId, out var face));
            Assert.Equal(personId, face.PersonId);
        }
    }

    [Fact]
    public async Task Blobs_put_get_list_delete_and_survive_restart()
    {
        using var dir = TestPaths.NewTempDirectory();
        var large = new byte[200_000];
        new Random(3).NextBytes(large);
        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            await store.PutBlobAsync("jobs/1", "first"u8.ToArray());
            await store.PutBlobAsync("jobs/2", large);
            await store.PutBlobAsync("clusters/default", ReadOnlyMemory<byte>.Empty);
            await store.PutBlobAsync("jobs/1", "second"u8.ToArray());

            Assert.True(store.TryGetBlob("jobs/1", out var value));
            Assert.Equal("second"u8.ToArray(), value);
            Assert.True(store.TryGetBlob("clusters/default", out var empty));
            Assert.Empty(empty);
            Assert.Equal(["jobs/1", "jobs/2"], store.ListBlobKeys("jobs/"));
            Assert.Equal(["clusters/default", "jobs/1", "jobs/2"], store.ListBlobKeys(""));
            Assert.True(await store.DeleteBlobAsync("jobs/1"));
            Assert.False(await store.DeleteBlobAsync("jobs/1"));
            Assert.False(store.TryGetBlob("jobs/1", out _));
        }

        await using (var store = await StoreFixture.OpenAsync(dir.Path))
        {
            Assert.Equal(["jobs/2"], store.ListBlobKeys("jobs"));
            Assert.True(store.TryGetBlob("jobs/2", out var value));
            Assert.Equal(large, value);
            Assert.False(store.TryGetBlob("jobs/1", out _));
        }
    }

    [Fact]
    public async Task Oversized_blob_is_refused()
    {
        using var dir = TestPaths.NewTempDirectory();
        var options = StoreFixture.Options(dir.Path);
        options.MaxBlobBytes = 1000;
        await using var store = await FaceStore.OpenAsync(options);
        var ex = await Assert.ThrowsAsync<FaceIndexException>(() => store.PutBlobAsync("k", new byte[1001]));
        Assert.Equal(FaceIndexError.InvalidArgument, ex.Error);
    }
}
