using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Storage;
using FaceIndex.Testing;

namespace FaceIndex.Engine.Tests;

/// <summary>Small settings and synthetic face codes for database tests that need no models.</summary>
internal static class DatabaseFixture
{
    public const string Model = "test-model-v1";

    public static StorageOptions Storage(string directory) => new()
    {
        DataDirectory = directory,
        MemoryBudgetBytes = 16L << 20,
        IndexBuckets = 1L << 14,
        WalMemoryBytes = 4L << 20,
        SegmentSizeBytes = 16L << 20,
        CheckpointInterval = TimeSpan.FromHours(1),
    };

    public static IndexOptions Index(int m = 16) => new() { M = m, EfConstruction = 100, EfSearch = 256 };

    /// <remarks>
    /// One build thread: the tests assert that every face is its own nearest neighbour once in the
    /// graph, which a parallel build does not guarantee yet (a few members of a group inserted at the
    /// same moment can be left without incoming links; see HnswReachabilityTests). The builder still
    /// runs beside the writers and the searches.
    /// </remarks>
    public static IndexingOptions Indexing(int exactBelow = 0) => new() { ExactSearchBelow = exactBelow, BuildThreads = 1, SnapshotInterval = TimeSpan.FromHours(1) };

    public static Task<FaceDatabase> OpenAsync(TempDirectory dir, int exactBelow = 0, int m = 16) =>
        FaceDatabase.OpenAsync(Storage(dir.Path), Index(m), Indexing(exactBelow), Model);

    /// <summary>Base row <paramref name="row"/> of the GENERATOR.md synthetic set, quantized: ten rows per identity, identities far apart.</summary>
    public static FaceVector Vector(long row)
    {
        Span<float> x = stackalloc float[FaceVector.Dimensions];
        SyntheticFaces.BaseRow(row, x);
        return Quantizer.Quantize(x);
    }

    public static NewFace Face(long row) => new(Vector(row), null, 0f);

    /// <summary>Enrols rows [start, start + count) as persons "p{row}", one face each, concurrently.</summary>
    public static async Task<long[]> EnrollAsync(FaceDatabase database, int start, int count, string collection = FaceDatabase.DefaultCollection)
    {
        var tasks = new Task<AddFacesResult>[count];
        for (int i = 0; i < count; i++)
        {
            long row = start + i;
            tasks[i] = database.AddFacesAsync(collection, "p" + row, [Face(row)], Model, null, null);
        }

        var results = await Task.WhenAll(tasks);
        return [.. results.Select(r => r.Faces[0].FaceId)];
    }

    public static long Nearest(FaceDatabase database, FaceVector query, string collection = FaceDatabase.DefaultCollection)
    {
        var results = new Neighbor[1];
        Assert.Equal(1, database.Search(collection, query, results));
        return results[0].Id;
    }
}
