using FaceIndex.Index;
using FaceIndex.Testing;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

/// <summary>Writes that race on the same person: the index must end up holding exactly the store's faces.</summary>
public sealed class WriteRaceTests
{
    [Fact]
    public async Task An_enrol_and_a_delete_of_its_person_in_one_commit_leave_the_index_agreeing_with_the_store()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        const string Collection = FaceDatabase.DefaultCollection;

        // The enrol and the person's delete share a group commit; their replies complete in either
        // order. When the delete's reply ran first, the enrol's late index insert put back a face that
        // the store had deleted.
        for (int round = 0; round < 300; round++)
        {
            var person = "race-" + (round % 8);
            var enrol = database.AddFacesAsync(Collection, person, [Face(round)], Model, null, null);
            var delete = database.DeletePersonAsync(Collection, person);
            await Task.WhenAll(enrol, delete);
        }

        await database.WaitForIndexingAsync();
        var stored = database.GetFaceIds(Collection);
        Assert.True(database.TryGetGraph(Collection, out var graph, out int pending));
        Assert.Equal(0, pending);
        var indexed = graph.GetIds();
        Array.Sort(indexed);
        Assert.Equal(stored, indexed);

        var results = new Neighbor[64];
        for (int round = 0; round < 300; round++)
        {
            int n = database.Search(Collection, Vector(round), results);
            foreach (var neighbor in results[..n])
            {
                Assert.Contains(neighbor.Id, stored);
            }
        }
    }
}
