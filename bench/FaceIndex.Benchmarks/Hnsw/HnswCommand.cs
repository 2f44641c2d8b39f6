using System.Diagnostics;
using System.Globalization;
using FaceIndex.Index;

namespace FaceIndex.Benchmarks.Hnsw;

/// <summary>
/// <c>hnsw --n 100000|1000000 [--threads 2] [--data DIR] [--m 16] [--ef-construction 128] [--ef 16,32,64,128,256] [--cache DIR]</c>:
/// builds an <see cref="HnswIndex"/> on the GENERATOR.md base set in file order and prints build
/// rate, bytes per vector (by structure, and the process's RSS growth), and for each ef recall@10,
/// single-thread queries/s and p50/p99 latency (3 passes × 1 000 queries after a warm-up pass, as
/// ANCHORS.md measured hnswlib) with the ratios to hnswlib's figures at the same ef and at equal
/// recall, then snapshot save and load times.
/// </summary>
internal static class HnswCommand
{
    public static int Run(string[] args)
    {
        var options = HnswBenchArgs.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine(HnswBenchArgs.Usage);
            return 2;
        }

        int n = options.N;
        Console.WriteLine($"hnsw --n {n} --threads {options.Threads} (M={options.M}, efConstruction={options.EfConstruction}); {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var data = BenchData.Load(n, options.Data, options.Cache);

        var ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = i;
        }

        // The data set (float rows, int8 codes, truth) is resident before this point, so the
        // growth below is the index's: its structures plus whatever the runtime adds for them.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long rssBefore = Environment.WorkingSet;
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var index = new HnswIndex(new IndexOptions { M = options.M, EfConstruction = options.EfConstruction, InitialCapacity = n });
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var progress = new Timer(_ => Console.WriteLine($"  … {index.Count:N0} vectors, {index.Count / clock.Elapsed.TotalSeconds:N0}/s"), null, 30_000, 30_000);
        index.AddRange(ids, data.Base, options.Threads);
        double buildSeconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        progress.Dispose();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        long managedGrowth = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        long rssGrowth = Environment.WorkingSet - rssBefore;

        Console.WriteLine();
        Console.WriteLine($"build: {n:N0} vectors in {buildSeconds:F1} s on {options.Threads} thread(s) = {n / buildSeconds:N0} vectors/s (process CPU {cpuSeconds:F1} s)");
        var anchor = HnswAnchors.For(n);
        if (anchor is not null)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  vs {anchor.Name}: {anchor.BuildRate:N0} vectors/s → ratio {n / buildSeconds / anchor.BuildRate:F2}"));
        }

        var memory = index.MemoryBreakdown();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory: index {index.MemoryBytes / (double)n:F1} B/vector, all structures (vectors {memory.Vectors / (double)n:F1}, base lists {memory.BaseLists / (double)n:F1}, ids and tombstones {memory.IdsAndTombstones / (double)n:F2}, upper layers {memory.UpperLayers / (double)n:F2}, id map {memory.IdMap / (double)n:F2}, search scratch {memory.Scratch / (double)n:F2})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  managed heap growth {managedGrowth / (double)n:F1} B/vector; allocated during the build {allocated / (double)n:F1} B/vector; RSS growth {rssGrowth / (double)n:F1} B/vector"));
        Console.WriteLine();
        Console.WriteLine("| ef | recall@10 | queries/s (1 thread) | p50 µs | p99 µs | qps ÷ hnswlib at this ef | qps ÷ hnswlib at its recall |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var curve = new List<(double Recall, double Qps)>();
        var rows = new List<(int Ef, double Recall, double Qps, double P50, double P99)>();
        foreach (int ef in options.Efs)
        {
            var row = Measure(index, data, ef);
            rows.Add((ef, row.Recall, row.Qps, row.P50, row.P99));
            curve.Add((row.Recall, row.Qps));
        }

        foreach (var row in rows)
        {
            int at = Array.IndexOf(HnswAnchors.Efs, row.Ef);
            string sameEf = anchor is null || at < 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{row.Qps / anchor.Qps[at]:F2} (recall {anchor.Recall[at]:F3})");
            string sameRecall = anchor is null || at < 0 || HnswAnchors.QpsAtRecall(curve, anchor.Recall[at]) is not { } qps ? "–" : string.Create(CultureInfo.InvariantCulture, $"{qps / anchor.Qps[at]:F2} ({qps:N0} at {anchor.Recall[at]:F3})");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Ef} | {row.Recall:F3} | {row.Qps:N0} | {row.P50:F0} | {row.P99:F0} | {sameEf} | {sameRecall} |"));
        }

        Snapshot(index, data, options.Cache);
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
}
