using System.Diagnostics;
using System.Globalization;
using FaceIndex.Core;
using FaceIndex.Engine;
using FaceIndex.Index;
using FaceIndex.Storage;
using FaceIndex.Testing;

namespace FaceIndex.Benchmarks.Server;

/// <summary>
/// <c>store [--faces 200000] [--writers 256] [--layer store|database]</c>: durable add-faces throughput
/// without gRPC: concurrent writers, each waiting for its own commit as the server's Enroll does,
/// into the store alone or into the database (store + the index tail and its background builder).
/// Separates those costs from the network's in the server benchmark.
/// </summary>
internal static class StoreCommand
{
    public static int Run(string[] args)
    {
        int faces = 200_000;
        int writers = 256;
        string layer = "store";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--faces": faces = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--writers": writers = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--layer" when args[i + 1] is "store" or "database": layer = args[i + 1]; break;
                default:
                    Console.Error.WriteLine("usage: store [--faces 200000] [--writers 256] [--layer store|database]");
                    return 2;
            }
        }

        return RunAsync(faces, writers, layer == "database").GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(int faces, int writers, bool database)
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
            var storage = new StorageOptions { DataDirectory = dir, MemoryBudgetBytes = 1L << 30 };
            Func<int, Task> add;
            IAsyncDisposable owner;
            if (database)
            {
                var db = await FaceDatabase.OpenAsync(storage, new IndexOptions(), new IndexingOptions(), "bench");
                add = i => db.AddFacesAsync(FaceDatabase.DefaultCollection, i.ToString(CultureInfo.InvariantCulture), [new NewFace(vectors[i % vectors.Length], null, 0f)], "bench", null, null);
                owner = db;
            }
            else
            {
                var store = await FaceStore.OpenAsync(storage);
                await store.CreateCollectionAsync("default", "bench");
                add = i => store.AddFacesAsync("default", i.ToString(CultureInfo.InvariantCulture), [new NewFace(vectors[i % vectors.Length], null, 0f)], "bench", null, null);
                owner = store;
            }

            await using (owner)
            {
                var latencies = new HdrHistogram.LongHistogram(TimeSpan.TicksPerSecond * 10, 3);
                var clock = Stopwatch.StartNew();
                int next = -1;
                await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < faces)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        await add(i);
                        lock (latencies)
                        {
                            latencies.RecordValue((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                        }
                    }
                })));
                double seconds = clock.Elapsed.TotalSeconds;
                Console.WriteLine($"{(database ? "database" : "store")}: {faces:N0} durable add-faces from {writers} concurrent writers in {seconds:F1} s = {faces / seconds:N0} faces/s; latency p50 {latencies.GetValueAtPercentile(50) / 1000.0:F2} ms, p99 {latencies.GetValueAtPercentile(99) / 1000.0:F2} ms");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        return 0;
    }
}
