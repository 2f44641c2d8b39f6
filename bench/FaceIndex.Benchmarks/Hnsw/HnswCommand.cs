using System.Diagnostics;
using System.Globalization;
using FaceIndex.Index;

namespace FaceIndex.Benchmarks.Hnsw;

/// <summary>
/// <c>hnsw --n 100000|1000000 [--threads 2] [--data DIR] [--m 16] [--ef-construction 200] [--cache DIR]</c>:
/// builds an <see cref="HnswIndex"/> on the GENERATOR.md base set in file order and prints build
/// rate, bytes per vector, and for ef ∈ {16, 32, 64, 128, 256} recall@10, single-thread queries/s and
/// p50/p99 latency (3 passes × 1 000 queries after a warm-up pass, as ANCHORS.md measured hnswlib),
/// then snapshot save and load times.
/// </summary>
internal static class HnswCommand
{
    private static readonly int[] s_efs = [16, 32, 64, 128, 256];

    public static int Run(string[] args)
    {
        var options = ParseArgs(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: hnsw --n N [--threads 2] [--data DIR] [--m 16] [--ef-construction 200] [--cache DIR]");
            return 2;
        }

        var (n, threads, dataDir, m, efConstruction, cacheDir) = options.Value;
        Console.WriteLine($"hnsw --n {n} --threads {threads} (M={m}, efConstruction={efConstruction}); {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var data = BenchData.Load(n, dataDir, cacheDir);

        var ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = i;
        }

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long rssBefore = Environment.WorkingSet;
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var index = new HnswIndex(new IndexOptions { M = m, EfConstruction = efConstruction, InitialCapacity = n });
        var clock = Stopwatch.StartNew();
        var progress = new Timer(_ => Console.WriteLine($"  … {index.Count:N0} vectors, {index.Count / clock.Elapsed.TotalSeconds:N0}/s"), null, 30_000, 30_000);
        index.AddRange(ids, data.Base, threads);
        double buildSeconds = clock.Elapsed.TotalSeconds;
        progress.Dispose();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long managedGrowth = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        long rssGrowth = Environment.WorkingSet - rssBefore;

        Console.WriteLine();
        Console.WriteLine($"build: {n:N0} vectors in {buildSeconds:F1} s on {threads} thread(s) = {n / buildSeconds:N0} vectors/s");
        Console.WriteLine($"memory: index {index.MemoryBytes / (double)n:F1} B/vector (structures); managed heap growth {managedGrowth / (double)n:F1} B/vector; RSS growth {rssGrowth / (double)n:F1} B/vector");
        Console.WriteLine();
        Console.WriteLine("| ef | recall@10 | queries/s (1 thread) | p50 µs | p99 µs |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (int ef in s_efs)
        {
            var row = Measure(index, data, ef);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {ef} | {row.Recall:F3} | {row.Qps:N0} | {row.P50:F0} | {row.P99:F0} |"));
        }

        Snapshot(index, data, cacheDir);
        return 0;
    }

    private static (double Recall, double Qps, double P50, double P99) Measure(HnswIndex index, BenchData data, int ef)
    {
        var results = new Neighbor[BenchData.K];
        var queries = data.Queries;
        foreach (var query in queries)
        {
            index.Search(query, results, ef);
        }

        var latencies = new double[3 * queries.Length];
        long hits = 0;
        long started = Stopwatch.GetTimestamp();
        for (int pass = 0; pass < 3; pass++)
        {
            for (int q = 0; q < queries.Length; q++)
            {
                long t0 = Stopwatch.GetTimestamp();
                int found = index.Search(queries[q], results, ef);
                latencies[(pass * queries.Length) + q] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                if (pass == 0)
                {
                    hits += CountHits(results.AsSpan(0, found), data.Truth.AsSpan(q * BenchData.K, BenchData.K));
                }
            }
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Array.Sort(latencies);
        return (
            (double)hits / (queries.Length * BenchData.K),
            latencies.Length / seconds,
            latencies[latencies.Length / 2],
            latencies[(int)(latencies.Length * 0.99)]);
    }

    private static int CountHits(ReadOnlySpan<Neighbor> found, ReadOnlySpan<int> truth)
    {
        int hits = 0;
        foreach (var neighbor in found)
        {
            if (truth.Contains((int)neighbor.Id))
            {
                hits++;
            }
        }

        return hits;
    }

    private static void Snapshot(HnswIndex index, BenchData data, string cacheDir)
    {
        Directory.CreateDirectory(cacheDir);
        var path = Path.Combine(cacheDir, $"hnsw_{data.N}.snapshot");
        try
        {
            var clock = Stopwatch.StartNew();
            index.Save(path, watermark: data.N);

            double save = clock.Elapsed.TotalSeconds;
            long bytes = new FileInfo(path).Length;
            clock.Restart();
            HnswIndex loaded;
            long watermark;
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            {
                loaded = HnswIndex.Load(file, out watermark);
            }

            double load = clock.Elapsed.TotalSeconds;
            var a = new Neighbor[BenchData.K];
            var b = new Neighbor[BenchData.K];
            int same = 0;
            foreach (var query in data.Queries)
            {
                index.Search(query, a);
                loaded.Search(query, b);
                same += a.AsSpan().SequenceEqual(b) ? 1 : 0;
            }

            Console.WriteLine();
            Console.WriteLine($"snapshot: {bytes / 1048576.0:F1} MiB ({bytes / (double)data.N:F1} B/vector); save {save:F2} s (temporary file, fsync, rename), load {load:F2} s; watermark {watermark}; identical results for {same}/{data.Queries.Length} queries");
            loaded.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (int N, int Threads, string? Data, int M, int EfConstruction, string Cache)? ParseArgs(string[] args)
    {
        int n = 0;
        int threads = 2;
        int m = IndexOptions.DefaultM;
        int efConstruction = IndexOptions.DefaultEfConstruction;
        string? data = null;
        string cache = Path.Combine(Path.GetTempPath(), "faceindex-bench");
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--n": n = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--data": data = value; break;
                case "--m": m = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--ef-construction": efConstruction = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--cache": cache = value; break;
                default: return null;
            }
        }

        if (n <= 0 || n % 100_000 != 0 || args.Length % 2 != 0)
        {
            return null;
        }

        return (n, threads, data, m, efConstruction, cache);
    }
}
