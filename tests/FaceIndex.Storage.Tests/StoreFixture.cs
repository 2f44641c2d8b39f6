using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Storage.Tests;

/// <summary>Helpers shared by the store tests: small FASTER settings, deterministic vectors, a temp data directory.</summary>
internal static class StoreFixture
{
    public const string Model = "facenet128-v1";

    public static StorageOptions Options(string directory) => new()
    {
        DataDirectory = directory,
        MemoryBudgetBytes = 16L << 20,
        IndexBuckets = 1L << 14,
        WalMemoryBytes = 4L << 20,
        SegmentSizeBytes = 16L << 20,
        CheckpointInterval = TimeSpan.FromHours(1),
    };

    public static Task<FaceStore> OpenAsync(string directory) => FaceStore.OpenAsync(Options(directory));

    /// <summary>A valid code (components in ±127) drawn from a seeded generator.</summary>
    public static FaceVector Vector(int seed)
    {
        var random = new Random(seed);
        Span<sbyte> components = stackalloc sbyte[FaceVector.Dimensions];
        for (var i = 0; i < components.Length; i++)
        {
            components[i] = (sbyte)random.Next(-127, 128);
        }

        return new FaceVector(components);
    }

    public static NewFace Face(int seed, bool withBox = true) =>
        new(Vector(seed), withBox ? new BoundingBox(seed, seed + 1, 100 + seed, 120 + seed) : null, withBox ? 0.5f + (seed % 50 / 100f) : 0f);

    public static byte[] Hash(int seed) => System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(seed));

    public static async Task<FaceStore> WithCollectionAsync(TempDirectory dir, string collection = "default")
    {
        var store = await OpenAsync(dir.Path);
        Assert.True(await store.CreateCollectionAsync(collection, Model));
        return store;
    }
}
