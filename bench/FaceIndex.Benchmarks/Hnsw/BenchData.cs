using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Benchmarks.Hnsw;

/// <summary>
/// The GENERATOR.md data set for the index benchmarks: base and query vectors (read from
/// DIR/base_N.f32 and DIR/query_N.f32 when present, generated in-process otherwise), their int8
/// codes, and the exact top-10 by float inner product (ties: lower row first), cached in a file.
/// </summary>
internal sealed class BenchData
{
    public const int K = 10;
    private const int QueryGroup = 8;

    private BenchData(float[] baseRows, float[] queryRows, int n)
    {
        N = n;
        BaseFloats = baseRows;
        QueryFloats = queryRows;
        Base = Quantize(baseRows);
        Queries = Quantize(queryRows);
    }

    public int N { get; }

    public float[] BaseFloats { get; }

    public float[] QueryFloats { get; }

    public FaceVector[] Base { get; }

    public FaceVector[] Queries { get; }

    /// <summary>Q × 10 base rows, best first.</summary>
    public int[] Truth { get; private set; } = [];

    public static BenchData Load(int n, string? dataDir, string cacheDir)
    {
        float[] baseRows;
        float[] queryRows;
        var basePath = dataDir is null ? null : Path.Combine(dataDir, $"base_{n}.f32");
        var queryPath = dataDir is null ? null : Path.Combine(dataDir, $"query_{n}.f32");
        if (basePath is not null && File.Exists(basePath) && queryPath is not null && File.Exists(queryPath))
        {
            Console.WriteLine($"reading {basePath} and {queryPath}");
            baseRows = ReadFloats(basePath);
            queryRows = ReadFloats(queryPath);
        }
        else
        {
            Console.WriteLine($"generating {n:N0} base vectors and {SyntheticFaces.QueryCount} queries (GENERATOR.md)");
            baseRows = new float[(long)n * FaceVector.Dimensions];
            Parallel.For(0, n, i => SyntheticFaces.BaseRow(i, baseRows.AsSpan(i * FaceVector.Dimensions, FaceVector.Dimensions)));
            queryRows = SyntheticFaces.Queries(n);
        }

        var data = new BenchData(baseRows, queryRows, n);
        var truthPath = Path.Combine(dataDir ?? cacheDir, $"gt_{n}.i32");
        if (File.Exists(truthPath) && new FileInfo(truthPath).Length == (long)data.Queries.Length * K * sizeof(int))
        {
            Console.WriteLine($"ground truth from {truthPath}");
            data.Truth = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(truthPath)).ToArray();
        }
        else
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            data.Truth = data.ComputeTruth();
            Console.WriteLine($"ground truth computed in {started.Elapsed.TotalSeconds:F1} s; cached in {truthPath}");
            Directory.CreateDirectory(Path.GetDirectoryName(truthPath)!);
            File.WriteAllBytes(truthPath, MemoryMarshal.AsBytes(data.Truth.AsSpan()).ToArray());
        }

        return data;
    }

    /// <summary>Exact top-10 by float dot product, queries in groups of 8 so that each base row is loaded once per group.</summary>
    private int[] ComputeTruth()
    {
        int q = Queries.Length;
        var truth = new int[q * K];
        int groups = (q + QueryGroup - 1) / QueryGroup;
        Parallel.For(0, groups, g =>
        {
            int first = g * QueryGroup;
            int count = Math.Min(QueryGroup, q - first);
            var bestScore = new float[QueryGroup * K];
            var bestRow = new int[QueryGroup * K];
            bestScore.AsSpan().Fill(float.NegativeInfinity);
            bestRow.AsSpan().Fill(int.MaxValue);
            Span<float> scores = stackalloc float[QueryGroup];
            var queries = QueryFloats.AsSpan(first * FaceVector.Dimensions, count * FaceVector.Dimensions);
            for (int row = 0; row < N; row++)
            {
                var b = BaseFloats.AsSpan(row * FaceVector.Dimensions, FaceVector.Dimensions);
                Dots(b, queries, count, scores);
                for (int j = 0; j < count; j++)
                {
                    Offer(bestScore.AsSpan(j * K, K), bestRow.AsSpan(j * K, K), scores[j], row);
                }
            }

            bestRow.AsSpan(0, count * K).CopyTo(truth.AsSpan(first * K));
        });

        return truth;
    }

    private static void Dots(ReadOnlySpan<float> row, ReadOnlySpan<float> queries, int count, Span<float> scores)
    {
        ref float r = ref MemoryMarshal.GetReference(row);
        for (int j = 0; j < count; j++)
        {
            ref float qv = ref MemoryMarshal.GetReference(queries.Slice(j * FaceVector.Dimensions, FaceVector.Dimensions));
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            var acc2 = Vector256<float>.Zero;
            var acc3 = Vector256<float>.Zero;
            for (nuint d = 0; d < FaceVector.Dimensions; d += 32)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, d), Vector256.LoadUnsafe(ref qv, d), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, d + 8), Vector256.LoadUnsafe(ref qv, d + 8), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, d + 16), Vector256.LoadUnsafe(ref qv, d + 16), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, d + 24), Vector256.LoadUnsafe(ref qv, d + 24), acc3);
            }

            scores[j] = Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
        }
    }

    /// <summary>Keeps the 10 best (score descending, then row ascending) in sorted arrays.</summary>
    private static void Offer(Span<float> scores, Span<int> rows, float score, int row)
    {
        if (score <= scores[K - 1])
        {
            return;
        }

        int i = K - 1;
        while (i > 0 && scores[i - 1] < score)
        {
            scores[i] = scores[i - 1];
            rows[i] = rows[i - 1];
            i--;
        }

        scores[i] = score;
        rows[i] = row;
    }

    private static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    private static FaceVector[] Quantize(float[] rows)
    {
        var vectors = new FaceVector[rows.Length / FaceVector.Dimensions];
        Parallel.For(0, vectors.Length, i => vectors[i] = Quantizer.QuantizeUnit(rows.AsSpan(i * FaceVector.Dimensions, FaceVector.Dimensions)));
        return vectors;
    }
}
