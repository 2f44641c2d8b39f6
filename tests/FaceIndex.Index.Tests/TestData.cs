using FaceIndex.Core;
using FaceIndex.Core.Synthetic;

namespace FaceIndex.Index.Tests;

/// <summary>Synthetic face-like vectors of shared/bench/GENERATOR.md, quantized as the product does.</summary>
internal static class TestData
{
    private const int Identities = 5_000;
    private static readonly Lazy<FaceVector[]> s_base = new(MakeBase);
    private static readonly Lazy<FaceVector[]> s_queries = new(MakeQueries);

    /// <summary>
    /// The first <paramref name="count"/> (≤ 50 000) rows of a 50k benchmark-like set: the rows of
    /// the 100k base set whose identity is below 5 000, in file order — 5 000 identities with all
    /// their 10 samples, as in the full set (where a query's top-10 is its identity's samples).
    /// </summary>
    public static ReadOnlyMemory<FaceVector> Base(int count) => s_base.Value.AsMemory(0, count);

    /// <summary>The queries of the 100k set whose identity is in the 50k set (about 500).</summary>
    public static FaceVector[] Queries => s_queries.Value;

    /// <summary>Ids 1000 + row, so that ids and slots differ.</summary>
    public static long[] Ids(int count, long offset = 1000)
    {
        var ids = new long[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = offset + i;
        }

        return ids;
    }

    /// <summary>Random vectors with components in [−range, range] (small ranges force equal scores).</summary>
    public static FaceVector[] Random(int count, int seed, int range = 127)
    {
        var random = new Random(seed);
        var vectors = new FaceVector[count];
        for (int i = 0; i < count; i++)
        {
            var c = vectors[i].Components;
            for (int d = 0; d < FaceVector.Dimensions; d++)
            {
                c[d] = (sbyte)random.Next(-range, range + 1);
            }
        }

        return vectors;
    }

    /// <summary>An exact index over the same ids and vectors.</summary>
    public static ExactIndex Exact(ReadOnlySpan<long> ids, ReadOnlySpan<FaceVector> vectors)
    {
        var exact = new ExactIndex(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            exact.Add(ids[i], vectors[i]);
        }

        return exact;
    }

    /// <summary>Mean recall@k of <paramref name="index"/> against <paramref name="truth"/> over <paramref name="queries"/>.</summary>
    public static double Recall(IVectorIndex index, IVectorIndex truth, ReadOnlySpan<FaceVector> queries, int k = 10, int ef = 0)
    {
        var found = new Neighbor[k];
        var expected = new Neighbor[k];
        long hits = 0;
        long total = 0;
        foreach (var query in queries)
        {
            int n = index.Search(query, found, ef);
            int m = truth.Search(query, expected);
            var set = new HashSet<long>();
            for (int i = 0; i < n; i++)
            {
                set.Add(found[i].Id);
            }

            for (int i = 0; i < m; i++)
            {
                hits += set.Contains(expected[i].Id) ? 1 : 0;
            }

            total += m;
        }

        return total == 0 ? 1 : (double)hits / total;
    }

    private static FaceVector[] MakeBase()
    {
        var rows = Quantize(SyntheticFaces.BaseRows(0, SyntheticFaces.BlockSize));
        var kept = new List<FaceVector>(Identities * 10);
        for (int row = 0; row < rows.Length; row++)
        {
            if (SyntheticFaces.IdentityOfBaseRow(row) < Identities)
            {
                kept.Add(rows[row]);
            }
        }

        return [.. kept];
    }

    private static FaceVector[] MakeQueries()
    {
        var rows = Quantize(SyntheticFaces.Queries(SyntheticFaces.BlockSize));
        var kept = new List<FaceVector>();
        for (int q = 0; q < rows.Length; q++)
        {
            if (SyntheticFaces.IdentityOfQuery(q, SyntheticFaces.BlockSize) < Identities)
            {
                kept.Add(rows[q]);
            }
        }

        return [.. kept];
    }

    private static FaceVector[] Quantize(float[] rows)
    {
        var vectors = new FaceVector[rows.Length / FaceVector.Dimensions];
        for (int i = 0; i < vectors.Length; i++)
        {
            vectors[i] = Quantizer.QuantizeUnit(rows.AsSpan(i * FaceVector.Dimensions, FaceVector.Dimensions));
        }

        return vectors;
    }
}
