using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

public sealed class FaceTests
{
    [Fact]
    public async Task Added_faces_read_back_exactly()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var tags = new Dictionary<string, string> { ["camera"] = "door-3", ["source"] = "import" };
        var hash = StoreFixture.Hash(7);
        var result = await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1), StoreFixture.Face(2, withBox: false)], StoreFixture.Model, hash, tags);

        Assert.False(result.Duplicate);
        Assert.Equal(2, result.Faces.Count);
        Assert.True(result.Faces[1].FaceId > result.Faces[0].FaceId);
        foreach (var (stored, seed) in result.Faces.Zip([1, 2]))
        {
            Assert.True(store.TryGetFace(stored.FaceId, out var read));
            Assert.Equal("default", read.Collection);
            Assert.Equal("alice", read.PersonId);
            Assert.Equal(StoreFixture.Vector(seed), read.Vector);
            Assert.Equal(StoreFixture.Model, read.ModelVersion);
            Assert.Equal(hash, read.ContentHash);
            Assert.Equal(tags, read.Tags);
            Assert.Equal(stored.Sequence, read.Sequence);
            Assert.Equal(stored.CreatedAt, read.CreatedAt);
            Assert.Equal(stored.Box, read.Box);
            Assert.Equal(stored.DetectionScore, read.DetectionScore);
            Assert.True(store.TryGetFacePerson("default", stored.FaceId, out var personId));
            Assert.Equal("alice", personId);
            Assert.False(store.TryGetFacePerson("other", stored.FaceId, out _));
        }

        Assert.Equal(new BoundingBox(1, 2, 101, 121), result.Faces[0].Box);
        Assert.Null(result.Faces[1].Box);
        Assert.True(store.TryGetPerson("default", "alice", out var person));
        Assert.Equal(result.Faces.Select(f => f.FaceId), person.FaceIds);
        Assert.Equal(result.Faces[0].Sequence, store.GetStats().LastSequence);
        Assert.False(store.TryGetFace(result.Faces[1].FaceId + 1, out _));
        Assert.False(store.TryGetFacePerson("default", result.Faces[1].FaceId + 1, out _));

        // The content hash finds the stored faces without decoding the image again.
        Assert.Equal(result.Faces.Select(f => f.FaceId), store.FindByContentHash("default", "alice", hash)!.Select(f => f.FaceId));
        Assert.Null(store.FindByContentHash("default", "bob", hash));
    }

    [Fact]
    public async Task Same_content_hash_is_idempotent_per_person()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var first = await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1), StoreFixture.Face(2)], StoreFixture.Model, StoreFixture.Hash(1), null);
        var again = await store.AddFacesAsync("default", "alice", [StoreFixture.Face(3)], StoreFixture.Model, StoreFixture.Hash(1), null);

        Assert.True(again.Duplicate);
        Assert.Equal(first.Faces.Select(f => f.FaceId), again.Faces.Select(f => f.FaceId).Order());
        Assert.Equal(2, store.CountFaces("default"));

        // Another person, or no hash, stores anew.
        Assert.False((await store.AddFacesAsync("default", "bob", [StoreFixture.Face(1)], StoreFixture.Model, StoreFixture.Hash(1), null)).Duplicate);
        Assert.False((await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1)], StoreFixture.Model, null, null)).Duplicate);
        Assert.Equal(4, store.CountFaces("default"));

        // Once every face of that image is deleted, the image can be enrolled again.
        foreach (var face in first.Faces)
        {
            Assert.NotNull(await store.DeleteFaceAsync("default", face.FaceId));
        }

        Assert.False((await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1)], StoreFixture.Model, StoreFixture.Hash(1), null)).Duplicate);
    }

    [Fact]
    public async Task Duplicates_inside_one_batch_are_detected()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var request = new AddFacesRequest("default", "alice", [StoreFixture.Face(1)], StoreFixture.Model, StoreFixture.Hash(1), null);
        var results = await store.AddFacesBatchAsync([request, request with { PersonId = "bob" }, request]);

        Assert.Equal([false, false, true], results.Select(r => r.Duplicate));
        Assert.Equal(results[0].Faces[0].FaceId, results[2].Faces[0].FaceId);
        Assert.Equal(2, store.CountFaces("default"));
    }

    [Fact]
    public async Task Batch_with_an_invalid_item_writes_nothing()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var good = new AddFacesRequest("default", "alice", [StoreFixture.Face(1)], StoreFixture.Model, null, null);
        var missing = good with { Collection = "nope" };
        var ex = await Assert.ThrowsAsync<FaceIndexException>(() => store.AddFacesBatchAsync([good, missing]));
        Assert.Equal(FaceIndexError.NotFound, ex.Error);
        var mismatch = await Assert.ThrowsAsync<FaceIndexException>(() => store.AddFacesBatchAsync([good, good with { ModelVersion = "other" }]));
        Assert.Equal(FaceIndexError.ModelMismatch, mismatch.Error);
        Assert.Equal(0, store.CountFaces("default"));
        Assert.False(store.TryGetPerson("default", "alice", out _));
    }

    [Fact]
    public async Task Invalid_requests_are_refused()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        async Task<FaceIndexError> Error(Func<Task> call) => (await Assert.ThrowsAsync<FaceIndexException>(call)).Error;

        Assert.Equal(FaceIndexError.NotFound, await Error(() => store.AddFacesAsync("missing", "a", [StoreFixture.Face(1)], StoreFixture.Model, null, null)));
        Assert.Equal(FaceIndexError.InvalidArgument, await Error(() => store.AddFacesAsync("default", "", [StoreFixture.Face(1)], StoreFixture.Model, null, null)));
        Assert.Equal(FaceIndexError.InvalidArgument, await Error(() => store.AddFacesAsync("default", new string('x', 257), [StoreFixture.Face(1)], StoreFixture.Model, null, null)));
        Assert.Equal(FaceIndexError.InvalidArgument, await Error(() => store.AddFacesAsync("default", "a", [], StoreFixture.Model, null, null)));
        Assert.Equal(FaceIndexError.InvalidArgument, await Error(() => store.AddFacesAsync("default", "a", [StoreFixture.Face(1)], StoreFixture.Model, [1, 2, 3], null)));
        Assert.Equal(FaceIndexError.InvalidArgument, await Error(() => store.AddFacesAsync("default", "a", [StoreFixture.Face(1) with { DetectionScore = float.NaN }], StoreFixture.Model, null, null)));
        Assert.Equal(FaceIndexError.ModelMismatch, await Error(() => store.AddFacesAsync("default", "a", [StoreFixture.Face(1)], "other", null, null)));
        Assert.Equal(0, store.GetStats().Faces);
    }

    [Fact]
    public async Task Delete_face_and_person()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var alice = await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1), StoreFixture.Face(2), StoreFixture.Face(3)], StoreFixture.Model, null, null);
        var bob = await store.AddFacesAsync("default", "bob", [StoreFixture.Face(4)], StoreFixture.Model, null, null);
        var ids = alice.Faces.Select(f => f.FaceId).ToArray();

        var deleted = await store.DeleteFaceAsync("default", ids[1]);
        Assert.Equal(ids[1], deleted?.FaceId);
        Assert.Null(await store.DeleteFaceAsync("default", ids[1]));
        Assert.Null(await store.DeleteFaceAsync("other", ids[0]));
        Assert.False(store.TryGetFace(ids[1], out _));
        Assert.True(store.TryGetPerson("default", "alice", out var person));
        Assert.Equal([ids[0], ids[2]], person.FaceIds);

        var removed = await store.DeletePersonAsync("default", "alice");
        Assert.Equal([ids[0], ids[2]], removed);
        Assert.Null(await store.DeletePersonAsync("default", "alice"));
        Assert.False(store.TryGetPerson("default", "alice", out _));
        Assert.All(ids, id => Assert.False(store.TryGetFace(id, out _)));
        Assert.Equal([bob.Faces[0].FaceId], store.EnumerateFaces("default").Select(f => f.FaceId));
        Assert.Equal(1, store.GetStats().Persons);
    }

    [Fact]
    public async Task Enumerate_yields_every_live_face_once_in_id_order()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        Assert.True(await store.CreateCollectionAsync("other", StoreFixture.Model));
        var expected = new List<long>();
        for (var i = 0; i < 50; i++)
        {
            var result = await store.AddFacesAsync("default", "p" + (i % 7), [StoreFixture.Face(i)], StoreFixture.Model, null, null);
            expected.Add(result.Faces[0].FaceId);
            await store.AddFacesAsync("other", "q", [StoreFixture.Face(1000 + i)], StoreFixture.Model, null, null);
        }

        Assert.NotNull(await store.DeleteFaceAsync("default", expected[10]));
        expected.RemoveAt(10);
        var faces = store.EnumerateFaces("default").ToList();
        Assert.Equal(expected, faces.Select(f => f.FaceId));
        Assert.All(faces, f => Assert.Equal("default", f.Collection));
        Assert.Equal(49, store.CountFaces("default"));
        Assert.Equal(99, store.GetStats().Faces);
    }
}
