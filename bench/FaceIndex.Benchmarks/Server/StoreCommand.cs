using System.Diagnostics;
using System.Globalization;
using FaceIndex.Core;
using FaceIndex.Core.Synthetic;
using FaceIndex.Storage;

namespace FaceIndex.Benchmarks.Server;

/// <summary>
/// <c>store [--faces 200000] [--writers 256]</c>: durable add-faces throughput of the store alone
/// (no gRPC, no index): concurrent writers, each waiting for its own commit, as the server's
/// Enroll does. Separates the store's cost from the network's in the server benchmark.
/// </summary>
internal static class StoreCommand
{
    public static int Run(string[] args)
    {
        int faces = 200_000;
        int writers = 256;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--faces": faces = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--writers": writers = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("usage: store [--faces 200000] [--writers 256]");
                    return 2;
            }
        }

        return RunAsync(faces, writers).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(int faces, int writers)
    {
        var dir = Path.Combine(Path.GetTempPath(), "faceindex-bench-store-" + Guid.NewGuid().ToString("N"));
        var vectors = new FaceVector[Math.Min(faces, 100_000)];
        var x = new float[FaceVector.Dimensions];
        for (int i = 0; i < vectors.Length; i++)
        {
            SyntheticFaces.BaseRow(i, x);
            vectors[i] = Quantizer.Quantize(x);
        }

        try
        {
            await using var store = await FaceStore.OpenAsync(new StorageOptions { DataDirectory = dir, MemoryBudgetBytes = 1L << 30 });
            await store.CreateCollectionAsync("default", "bench");
            var clock = Stopwatch.StartNew();
            int next = -1;
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < faces)
                {
                    await store.AddFacesAsync("default", i.ToString(CultureInfo.InvariantCulture), [new NewFace(vectors[i % vectors.Length], null, 0f)], "bench", null, null);
                }
            })));
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"store: {faces:N0} durable add-faces from {writers} concurrent writers in {seconds:F1} s = {faces / seconds:N0} faces/s");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        return 0;
    }
}
