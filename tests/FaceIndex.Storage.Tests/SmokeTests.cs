using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Add_checkpoint_reopen()
    {
        using var dir = TestPaths.NewTempDirectory();
        long id;
        await using (var store = await StoreFixture.WithCollectionAsync(dir))
        {
            var result = await store.AddFacesAsync("default", "alice", [StoreFixture.Face(1)], StoreFixture.Model, null, null);
            id = result.Faces[0].FaceId;
            await store.CheckpointAsync();
            await store.AddFacesAsync("default", "bob", [StoreFixture.Face(2)], StoreFixture.Model, null, null);
        }

        await using var reopened = await StoreFixture.OpenAsync(dir.Path);
        Assert.True(reopened.TryGetFace(id, out var face));
        Assert.Equal("alice", face.PersonId);
        Assert.Equal(2, reopened.CountFaces("default"));
    }
}
