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
