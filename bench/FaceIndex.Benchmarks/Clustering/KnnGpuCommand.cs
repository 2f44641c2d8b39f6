using System.Diagnostics;
using System.Globalization;
using FaceIndex.Clustering;
using FaceIndex.Core;
using FaceIndex.Gpu;
using FaceIndex.Index;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Benchmarks.Clustering;

/// <summary>
/// <c>knn-gpu</c>: the exact all-pairs kNN graph (N × N int8 dot products, top-k per face) on the
/// CPU scan and on the GPU scan, in one run, with a check that both give identical neighbours.
/// The CPU path is timed on the whole graph when <c>--cpu-queries</c> equals N, otherwise on that
/// many evenly spaced faces against the whole corpus and scaled by N / queries (the scan's cost is
/// linear in queries). Prints one table row.
/// </summary>
internal static class KnnGpuCommand
{
    private const string Usage =
        "usage: knn-gpu [--n 1000000] [--k 32] [--threshold 0.84] [--cpu-queries 2000] [--device auto|cuda|cpu] [--threads 0] [--seed 1]";

    public static int Run(string[] args)
    {
        int n = 1_000_000;
        int k = 32;
        float threshold = 0.84f;
        int? cpuQueries = null;
        var device = ScanDevice.Auto;
        int threads = 0;
        int seed = 1;
        for (int i = 0; i < args.Length; i += 2)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            switch (args[i])
            {
                case "--n": n = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--k": k = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threshold": threshold = float.Parse(value, CultureInfo.InvariantCulture); break;
                case "--cpu-queries": cpuQueries = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--device": device = Enum.Parse<ScanDevice>(value, ignoreCase: true); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}'\n{Usage}");
                    return 2;
            }
        }

        int sample = Math.Clamp(cpuQueries ?? 2_000, 1, n);
        var options = new ClusteringOptions { K = k, Threshold = threshold, MaxDegreeOfParallelism = threads };
        var clock = Stopwatch.StartNew();
        var (ids, vectors) = Generate(n, seed);
        Console.WriteLine($"data: {n:N0} codes ({n / 10:N0} identities × 10, shuffled) in {clock.Elapsed.TotalSeconds:F1} s");

        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        clock.Restart();
        var scanner = ExactScanners.Select(device, threads, loggers.CreateLogger("knn-gpu"));
        double startSeconds = clock.Elapsed.TotalSeconds;
        var gpu = scanner as GpuExactScanner;

        // GPU path: the whole graph.
        KnnGraph? gpuGraph = null;
        double gpuSeconds = double.NaN;
        if (gpu is not null)
        {
            clock.Restart();
            gpuGraph = KnnGraphBuilder.BuildExact(gpu, ids, vectors, options);
            gpuSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"GPU graph: {gpuSeconds:F2} s, {gpuGraph.EdgeCount:N0} edges (device start-up and kernel check {startSeconds:F2} s)");
        }

        // CPU path: the whole graph, or a sample of its rows.
        var cpu = new CpuExactScanner(threads);
        var rows = Enumerable.Range(0, sample).Select(i => (int)((long)i * n / sample)).ToArray();
        int[][] cpuNeighbors;
        int[][] cpuScores;
        double cpuSeconds;
        clock.Restart();
        if (sample == n)
        {
            var graph = KnnGraphBuilder.BuildExact(cpu, ids, vectors, options);
            cpuSeconds = clock.Elapsed.TotalSeconds;
            cpuNeighbors = rows.Select(r => graph.GetNeighbors(r).ToArray()).ToArray();
            cpuScores = rows.Select(r => graph.GetScores(r).ToArray()).ToArray();
            Console.WriteLine($"CPU graph: {cpuSeconds:F2} s, {graph.EdgeCount:N0} edges, {cpu.Description}");
        }
        else
        {
            using var corpus = cpu.CreateCorpus();
            corpus.Sync(vectors, ids, 0);
            var hits = new ScanHit[sample * k];
            var counts = new int[sample];
            corpus.Search(rows.Select(r => vectors[r]).ToArray(), rows.Select(r => ids[r]).ToArray(), k, options.MinDot, hits, counts);
            double sampleSeconds = clock.Elapsed.TotalSeconds;
            cpuSeconds = sampleSeconds * n / sample;
            cpuNeighbors = counts.Select((c, q) => hits.AsSpan(q * k, c).ToArray().Select(h => h.Index).ToArray()).ToArray();
            cpuScores = counts.Select((c, q) => hits.AsSpan(q * k, c).ToArray().Select(h => h.Score).ToArray()).ToArray();
            Console.WriteLine($"CPU: {sample:N0} rows in {sampleSeconds:F2} s → {cpuSeconds:F0} s for {n:N0} (extrapolated), {cpu.Description}");
        }

        string identical = "–";
        if (gpuGraph is not null)
        {
            int same = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                if (gpuGraph.GetNeighbors(rows[i]).SequenceEqual(cpuNeighbors[i]) && gpuGraph.GetScores(rows[i]).SequenceEqual(cpuScores[i]))
                {
                    same++;
                }
            }

            identical = $"{same:N0}/{rows.Length:N0}";
        }

        string cpuCell = sample == n ? $"{cpuSeconds:F1} s" : $"{cpuSeconds:F0} s (from {sample:N0} rows)";
        string gpuCell = gpu is null ? "– (no CUDA device)" : $"{gpuSeconds:F2} s";
        string speedUp = gpu is null ? "–" : $"{cpuSeconds / gpuSeconds:F0}×";
        Console.WriteLine();
        Console.WriteLine("| n | k | CPU path | GPU path | GPU ÷ CPU speed-up | identical rows (sample) | scanner |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        Console.WriteLine($"| {n:N0} | {k} | {cpuCell} | {gpuCell} | {speedUp} | {identical} | {(gpu ?? (IExactScanner)cpu).Description} |");
        gpu?.Dispose();
        return gpuGraph is null || identical.StartsWith($"{rows.Length:N0}/", StringComparison.Ordinal) ? 0 : 1;
    }

    /// <summary>
    /// Face-like codes: n / 10 random identity directions, each seen 10 times with noise (a
    /// same-identity pair lies near squared distance 0.1, others near 2), quantized, shuffled; ids distinct and unordered.
    /// </summary>
    private static (long[] Ids, FaceVector[] Vectors) Generate(int n, int seed)
    {
        var vectors = new FaceVector[n];
        var ids = new long[n];
        Parallel.For(0, (n + 9) / 10, identity =>
        {
            var random = new Random(HashCode.Combine(seed, identity));
            Span<float> center = stackalloc float[FaceVector.Dimensions];
            Span<float> sample = stackalloc float[FaceVector.Dimensions];
            Gaussian(random, center, 1f);
            for (int s = 0; s < 10 && (identity * 10) + s < n; s++)
            {
                Gaussian(random, sample, 0.25f);
                for (int d = 0; d < sample.Length; d++)
                {
                    sample[d] += center[d];
                }

                int row = (identity * 10) + s;
                vectors[row] = Quantizer.Quantize(sample);
                ids[row] = (row * 2_654_435_761L) % 4_294_967_311L;
            }
        });
        new Random(seed).Shuffle(vectors);
        return (ids, vectors);
    }

    private static void Gaussian(Random random, Span<float> values, float sigma)
    {
        for (int d = 0; d < values.Length; d++)
        {
            double u = 1.0 - random.NextDouble();
            double v = random.NextDouble();
            values[d] = (float)(sigma * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
    }
}
