using FaceIndex.Core;
using FaceIndex.Gpu.Internal;
using FaceIndex.Index;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Gpu;

/// <summary>Chooses the <see cref="IExactScanner"/> of a process: a CUDA device when present, else the CPU.</summary>
public static class ExactScanners
{
    /// <summary>
    /// The scanner for <paramref name="device"/>, with one log line saying which was chosen and why.
    /// A CUDA scanner is first checked against the CPU scan on a small random set; a device that
    /// disagrees is not used.
    /// </summary>
    /// <param name="device">Auto (default), Cpu or Cuda.</param>
    /// <param name="cpuThreads">Threads of the CPU scanner (0 = one per processor).</param>
    /// <param name="logger">Receives the choice.</param>
    /// <exception cref="InvalidOperationException"><paramref name="device"/> is Cuda and no usable CUDA device was found; the message says why.</exception>
    public static IExactScanner Select(ScanDevice device, int cpuThreads, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var cpu = new CpuExactScanner(cpuThreads);
        if (device == ScanDevice.Cpu)
        {
            GpuLog.ScannerChosen(logger, cpu.Description, "configured (ExactScan device = cpu)");
            return cpu;
        }

        var gpu = GpuExactScanner.TryCreateCuda(out string reason);
        if (gpu is not null && !Checks(gpu, cpu, out string failure))
        {
            gpu.Dispose();
            gpu = null;
            reason = $"CUDA unusable: {failure}";
        }

        if (gpu is not null)
        {
            GpuLog.ScannerChosen(logger, gpu.Description, reason);
            return gpu;
        }

        if (device == ScanDevice.Cuda)
        {
            throw new InvalidOperationException($"Exact scans were configured on CUDA, which is unavailable: {reason}.");
        }

        GpuLog.ScannerChosen(logger, cpu.Description, reason);
        return cpu;
    }

    /// <summary>The start-up check of a device: it runs, and agrees with the CPU.</summary>
    private static bool Checks(IExactScanner gpu, IExactScanner cpu, out string failure)
    {
        try
        {
            if (AgreesWith(gpu, cpu, out string disagreement))
            {
                failure = "";
                return true;
            }

            failure = $"its scan disagrees with the CPU's: {disagreement}";
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = $"its scan failed: {ex.GetType().Name}: {ex.Message}";
            return false;
        }
    }

    /// <summary>True when both scanners return identical top-k lists on a random set with near-ties; otherwise says where they differ.</summary>
    internal static bool AgreesWith(IExactScanner scanner, IExactScanner reference, out string disagreement)
    {
        const int N = 777;
        const int K = 17;
        var random = new Random(20261203);
        var vectors = new FaceVector[N];
        var ids = new long[N];
        for (int i = 0; i < N; i++)
        {
            // Components in [-3, 3]: many equal scores, so the tie order is checked too.
            var components = new sbyte[FaceVector.Dimensions];
            for (int d = 0; d < components.Length; d++)
            {
                components[d] = (sbyte)random.Next(-3, 4);
            }

            vectors[i] = new FaceVector(components);
            ids[i] = (i * 7919L) % 100_003;
        }

        var expected = Run(reference, vectors, ids, K);
        var actual = Run(scanner, vectors, ids, K);
        for (int q = 0; q < N; q++)
        {
            if (!expected[q].AsSpan().SequenceEqual(actual[q]))
            {
                disagreement = $"query {q}: expected {string.Join(' ', expected[q])}, got {string.Join(' ', actual[q])}";
                return false;
            }
        }

        disagreement = "";
        return true;
    }

    private static ScanHit[][] Run(IExactScanner scanner, FaceVector[] vectors, long[] ids, int k)
    {
        using var corpus = scanner.CreateCorpus();
        corpus.Sync(vectors, ids, 0);
        var hits = new ScanHit[vectors.Length * k];
        var counts = new int[vectors.Length];
        corpus.Search(vectors, ids, k, int.MinValue, hits, counts);
        var lists = new ScanHit[vectors.Length][];
        for (int q = 0; q < lists.Length; q++)
        {
            lists[q] = hits.AsSpan(q * k, counts[q]).ToArray();
        }

        return lists;
    }
}
