using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

public sealed class CollectionTests
{
    [Fact]
    public async Task Create_get_list_and_delete()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.OpenAsync(dir.Path);

        Assert.True(await store.CreateCollectionAsync("gallery-b", StoreFixture.Model));
        Assert.True(await store.CreateCollectionAsync("gallery-a", "other-model"));
        Assert.False(await store.CreateCollectionAsync("gallery-b", "other-model"));

        Assert.True(store.TryGetCollection("gallery-b", out var b));
        Assert.Equal(StoreFixture.Model, b.ModelVersion);
        Assert.Equal(0, b.FaceCount);
        Assert.Equal(["gallery-a", "gallery-b"], store.ListCollections().Select(c => c.Name));

        await store.AddFacesAsync("gallery-b", "p1", [StoreFixture.Face(1), StoreFixture.Face(2)], StoreFixture.Model, null, null);
        Assert.True(store.TryGetCollection("gallery-b", out b));
        Assert.Equal(2, b.FaceCount);
        Assert.Equal(1, b.PersonCount);

        Assert.True(await store.DeleteCollectionAsync("gallery-b"));
        Assert.False(await store.DeleteCollectionAsync("gallery-b"));
        Assert.False(store.TryGetCollection("gallery-b", out _));
        Assert.Equal(0, store.CountFaces("gallery-b"));
        Assert.Empty(store.EnumerateFaces("gallery-b"));
        Assert.Equal(0, store.GetStats().Faces);
    }

    [Fact]
    public async Task Recreated_collection_does_not_see_old_faces_or_persons()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.WithCollectionAsync(dir);
        var first = await store.AddFacesAsync("default", "p1", [StoreFixture.Face(1)], StoreFixture.Model, StoreFixture.Hash(1), null);
        Assert.True(await store.DeleteCollectionAsync("default"));
        Assert.True(await store.CreateCollectionAsync("default", StoreFixture.Model));

        Assert.False(store.TryGetPerson("default", "p1", out _));
        Assert.False(store.TryGetFace(first.Faces[0].FaceId, out _));
        var again = await store.AddFacesAsync("default", "p1", [StoreFixture.Face(1)], StoreFixture.Model, StoreFixture.Hash(1), null);
        Assert.False(again.Duplicate);
        Assert.True(again.Faces[0].FaceId > first.Faces[0].FaceId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Invalid_names_are_refused(int kind)
    {
        // Built here: a lone surrogate does not survive test-case serialization.
        var name = kind == 0 ? string.Empty : "gallery" + (char)0xD800;
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.OpenAsync(dir.Path);
        var ex = await Assert.ThrowsAsync<FaceIndexException>(() => store.CreateCollectionAsync(name, StoreFixture.Model));
        Assert.Equal(FaceIndexError.InvalidArgument, ex.Error);
    }

    [Fact]
    public async Task Name_length_is_limited_in_utf8_bytes()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var store = await StoreFixture.OpenAsync(dir.Path);
        Assert.True(await store.CreateCollectionAsync(new string('é', 64), StoreFixture.Model));
        var ex = await Assert.ThrowsAsync<FaceIndexException>(() => store.CreateCollectionAsync(new string('é', 65), StoreFixture.Model));
        Assert.Equal(FaceIndexError.InvalidArgument, ex.Error);
        Assert.Contains("130 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_validation_names_the_setting()
    {
        var options = new StorageOptions { MemoryBudgetBytes = 3 << 20 };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("MemoryBudgetBytes", ex.Message, StringComparison.Ordinal);
        new StorageOptions().Validate();
        Assert.Throws<ArgumentException>(new StorageOptions { CheckpointInterval = TimeSpan.Zero }.Validate);
        Assert.Throws<ArgumentException>(new StorageOptions { DataDirectory = " " }.Validate);
        Assert.Throws<ArgumentException>(new StorageOptions { IndexBuckets = 1000 }.Validate);
    }
}
