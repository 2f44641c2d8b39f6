using System.Diagnostics;
using System.Globalization;
using FaceIndex.Core;
using FaceIndex.Vision;

namespace FaceIndex.Benchmarks.Vision;

/// <summary>
/// <c>vision [--images DIR] [--seconds 6] [--rounds 3]</c> (and <c>vision codes</c>, see <see cref="CodeComparison"/>): the face pipeline on the deepface
/// photographs. Prints (1) the time and managed allocation of each stage on one thread, (2) end-to-end
/// images/s with 1 and 2 workers and with one session of 2 intra-op threads, (3) the scaling of the
/// embedding and detection models alone over sessions, a shared session and intra-op threads, and
/// (4) the scaling of a compute-bound managed loop: the ceiling this machine offers right now.
/// Configurations are measured in interleaved rounds (medians reported), as the machine is shared.
/// </summary>
internal static class VisionCommand
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "codes")
        {
            return CodeComparison.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "throughput")
        {
            return ThroughputCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "provider")
        {
            return ThroughputCommand.Provider();
        }

        if (args.Length > 0 && args[0] == "compare")
        {
            return ThroughputCommand.Compare(args[1..]);
        }

        string imagesDir = BenchImages.Deepface;
        double seconds = 6;
        int rounds = 3;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--images":
                    imagesDir = args[i + 1];
                    break;
                case "--seconds":
                    seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--rounds":
                    rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine("usage: vision [--images DIR] [--seconds 6] [--rounds 3]");
                    return 2;
            }
        }

        var images = BenchImages.Load(imagesDir);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vision: {images.Count} images from {imagesDir}; {Environment.ProcessorCount} cores ({CpuModel()}); server GC {System.Runtime.GCSettings.IsServerGC}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        Console.WriteLine();
        VisionStages.Print(images);
        Console.WriteLine();
        PrintThroughput(images, seconds, rounds);
        Console.WriteLine();
        ModelScaling.Print(images, seconds / 2, rounds);
        Console.WriteLine();
        PrintCalibration(seconds / 2, rounds);
        return 0;
    }

    /// <summary>End-to-end AnalyzeAsync over the image set by W concurrent callers.</summary>
    private static void PrintThroughput(List<(string Name, byte[] Bytes)> images, double seconds, int rounds)
    {
        (string Name, int Callers, int Sessions, bool Share, int Threads)[] configs =
        [
            ("1 worker (1 session × 1 thread)", 1, 1, true, 1),
            ("2 workers, a session each (× 1 thread)", 2, 2, false, 1),
            ("2 workers sharing 1 session (× 1 thread) — default", 2, 2, true, 1),
            ("1 worker, 1 session × 2 intra-op threads", 1, 1, true, 2),
        ];
        var pipelines = new FacePipeline[configs.Length];
        for (int c = 0; c < configs.Length; c++)
        {
            pipelines[c] = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Sessions = configs[c].Sessions, ShareSessions = configs[c].Share, IntraOpThreads = configs[c].Threads });
            RunFor(pipelines[c], images, configs[c].Callers, 1.0);
        }

        var rates = new List<double>[configs.Length];
        var allocated = new double[configs.Length];
        var gcs = new (int, int, int)[configs.Length];
        for (int c = 0; c < configs.Length; c++)
        {
            rates[c] = [];
        }

        for (int round = 0; round < rounds; round++)
        {
            for (int c = 0; c < configs.Length; c++)
            {
                var r = RunFor(pipelines[c], images, configs[c].Callers, seconds);
                rates[c].Add(r.ImagesPerSecond);
                allocated[c] = r.BytesPerImage;
                gcs[c] = r.Collections;
            }
        }

        Console.WriteLine($"End to end (decode → … → code), images/s, median of {rounds} interleaved rounds of {seconds:F0} s:");
        Console.WriteLine();
        Console.WriteLine("| configuration | images/s | × 1 worker | managed alloc/image | GCs gen0/1/2 per 100 images |");
        Console.WriteLine("|---|---|---|---|---|");
        double baseline = Median(rates[0]);
        for (int c = 0; c < configs.Length; c++)
        {
            double rate = Median(rates[c]);
            var (g0, g1, g2) = gcs[c];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {configs[c].Name} | {rate:F1} | {rate / baseline:F2} | {allocated[c] / 1024:N0} KB | {g0:F0} / {g1:F0} / {g2:F0} |"));
        }

        foreach (var p in pipelines)
        {
            p.Dispose();
        }
    }

    private static (double ImagesPerSecond, double BytesPerImage, (int, int, int) Collections) RunFor(FacePipeline pipeline, List<(string Name, byte[] Bytes)> images, int callers, double seconds)
    {
        long done = 0;
        int next = -1;
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long bytes = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var loops = new Task[callers];
        for (int w = 0; w < callers; w++)
        {
            loops[w] = Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    int i = Interlocked.Increment(ref next) % images.Count;
                    await pipeline.AnalyzeAsync(images[i].Bytes).ConfigureAwait(false);
                    Interlocked.Increment(ref done);
                }
            });
        }

        Task.WaitAll(loops);
        double elapsed = clock.Elapsed.TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        double per100 = 100.0 / Math.Max(1, done);
        return (done / elapsed, allocated / (double)Math.Max(1, done), ((int)((GC.CollectionCount(0) - g0) * per100), (int)((GC.CollectionCount(1) - g1) * per100), (int)((GC.CollectionCount(2) - g2) * per100)));
    }

    /// <summary>A compute-bound managed loop (AVX2 multiply-adds on an L1-resident array), 1 vs 2 threads.</summary>
    private static void PrintCalibration(double seconds, int rounds)
    {
        var one = new List<double>();
        var two = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            one.Add(ModelScaling.OnThreads(1, seconds, _ => Spin()));
            two.Add(ModelScaling.OnThreads(2, seconds, _ => Spin()));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Machine ceiling: a compute-bound managed loop runs {Median(two) / Median(one):F2}× as fast on 2 threads as on 1 (median of {rounds} rounds)."));
    }

    private static readonly float[] s_spinData = CreateSpinData();

    private static float[] CreateSpinData()
    {
        var data = new float[1024];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = 1f / (1 + i);
        }

        return data;
    }

    /// <summary>One unit of compute-bound work: 64 float dot products of 1,024 elements.</summary>
    private static void Spin()
    {
        float sum = 0;
        for (int k = 0; k < 64; k++)
        {
            sum += VectorMath.Dot(s_spinData, s_spinData);
        }

        GC.KeepAlive(sum);
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
            // Not Linux: the model name is only informative.
        }

        return "unknown CPU";
    }
}
