using System.Diagnostics;
using System.Globalization;
using FaceIndex.Clustering;
using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Benchmarks.Clustering;

/// <summary>
/// <c>cluster --n N …</c>: clusters the first N rows of the GENERATOR.md base set (labels =
/// <see cref="SyntheticFaces.IdentityOfBaseRow"/>) and prints, per phase, the wall time, then peak
/// memory and pairwise + BCubed quality for each algorithm and threshold over one kNN graph.
/// </summary>
internal static class ClusterCommand
{
    public static int Run(string[] args)
    {
        if (!ClusterBenchArgs.TryParse(args, out var bench))
        {
            Console.Error.WriteLine(ClusterBenchArgs.Usage);
            return 2;
        }

        var loosest = bench.Thresholds.Max();
        var graphOptions = new ClusteringOptions { K = bench.K, Ef = bench.Ef, Threshold = loosest, MaxDegreeOfParallelism = bench.Threads };
        Console.WriteLine($"cluster: n={bench.N}, graph={bench.Graph}, k={bench.K}, ef={bench.Ef}, threads={(bench.Threads == 0 ? Environment.ProcessorCount : bench.Threads)}, cores={Environment.ProcessorCount}");

        var clock = Stopwatch.StartNew();
        var (ids, vectors, labels) = Generate(bench.N);
        Phase("generate + quantize", clock);

        var graph = KnnGraphFactory.Build(bench, ids, vectors, graphOptions, clock);
        Console.WriteLine($"graph: {graph.EdgeCount} edges within {loosest:F3} ({(double)graph.EdgeCount / graph.NodeCount:F2} per face), {graph.MemoryBytes / 1048576.0:F1} MiB");

        Console.WriteLine();
        Console.WriteLine("| algorithm | threshold | cluster s | clusters | pairwise P | pairwise R | pairwise F1 | BCubed P | BCubed R | BCubed F1 |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var algorithm in bench.Algorithms)
        {
            foreach (var threshold in bench.Thresholds)
            {
                var options = new ClusteringOptions
                {
                    Algorithm = algorithm,
                    Threshold = threshold,
                    K = bench.K,
                    Seed = bench.Seed,
                    MaxDegreeOfParallelism = bench.Threads,
                };
                var started = clock.Elapsed;
                var result = FaceClusterer.Cluster(graph, ids, vectors, options);
                var seconds = (clock.Elapsed - started).TotalSeconds;
                var q = ClusteringMetrics.Evaluate(labels, result.ClusterIds);
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {algorithm} | {threshold:F3} | {seconds:F1} | {result.ClusterCount} | {q.PairwisePrecision:F4} | {q.PairwiseRecall:F4} | {q.PairwiseF1:F4} | {q.BCubedPrecision:F4} | {q.BCubedRecall:F4} | {q.BCubedF1:F4} |"));
            }
        }

        Console.WriteLine();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"total {clock.Elapsed.TotalSeconds:F1} s; peak working set {process.PeakWorkingSet64 / 1073741824.0:F2} GiB; GC heap now {GC.GetTotalMemory(false) / 1073741824.0:F2} GiB; allocated {GC.GetTotalAllocatedBytes() / 1073741824.0:F2} GiB"));
        return 0;
    }

    internal static void Phase(string name, Stopwatch clock)
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{name,-34} done at {clock.Elapsed.TotalSeconds,7:F1} s   working set {process.WorkingSet64 / 1073741824.0:F2} GiB"));
    }

    private static (long[] Ids, FaceVector[] Vectors, int[] Labels) Generate(int n)
    {
        var ids = new long[n];
        var vectors = new FaceVector[n];
        var labels = new int[n];
        Parallel.For(0, n, () => new float[FaceVector.Dimensions], (row, _, buffer) =>
        {
            SyntheticFaces.BaseRow(row, buffer);
            vectors[row] = Quantizer.QuantizeUnit(buffer);
            ids[row] = row;
            labels[row] = SyntheticFaces.IdentityOfBaseRow(row);
            return buffer;
        }, _ => { });
        return (ids, vectors, labels);
    }
}
