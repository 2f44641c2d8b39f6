using BenchmarkDotNet.Attributes;
using FaceIndex.Core;

namespace FaceIndex.Benchmarks.Distance;

/// <summary>The int8 kernels on 128-byte codes in cache: one dot at a time against four per call (the pruning kernel).</summary>
[MemoryDiagnoser]
public class DotBenchmarks
{
    private const int Codes = 1024;
    private sbyte[] _query = [];
    private sbyte[] _codes = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _query = Enumerable.Range(0, FaceVector.Dimensions).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        _codes = Enumerable.Range(0, Codes * FaceVector.Dimensions).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
    }

    /// <summary>1 024 dots, one per call.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Codes)]
    public int Dot128()
    {
        int sum = 0;
        for (int i = 0; i < Codes; i++)
        {
            sum += VectorMath.Dot128(ref _query[0], ref _codes[i * FaceVector.Dimensions]);
        }

        return sum;
    }

    /// <summary>1 024 dots, four per call.</summary>
    [Benchmark(OperationsPerInvoke = Codes)]
    public int Dot128x4()
    {
        int sum = 0;
        for (int i = 0; i < Codes; i += 4)
        {
            var dots = VectorMath.Dot128x4(
                ref _query[0],
                ref _codes[i * FaceVector.Dimensions],
                ref _codes[(i + 1) * FaceVector.Dimensions],
                ref _codes[(i + 2) * FaceVector.Dimensions],
                ref _codes[(i + 3) * FaceVector.Dimensions]);
            sum += dots[0] + dots[1] + dots[2] + dots[3];
        }

        return sum;
    }
}
