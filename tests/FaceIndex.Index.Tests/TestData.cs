using FaceIndex.Core;
using FaceIndex.Testing;

namespace FaceIndex.Index.Tests;

/// <summary>
/// Synthetic face-like vectors of shared/bench/GENERATOR.md, quantized as the product does.
/// A set of N vectors holds the rows of the 100k base set whose identity is below N / 10, in file
/// order: N / 10 identities with all 10 samples each, as in the benchmark, so that a query's exact
/// top-10 is its identity's samples (a set with fewer samples per identity would make the top-10
/// mostly random background points, which measures the data rather than the index).
/// </summary>
internal static class TestData
{
    private static readonly Lazy<FaceVector[]> s_rows = new(() => Quantize(SyntheticFaces.BaseRows(0, SyntheticFaces.BlockSize)));
    private static readonly Lazy<FaceVector[]> s_queries = new(() => Quantize(SyntheticFaces.Queries(SyntheticFaces.BlockSize)));
    private static readonly Dictionary<int, TestSet> s_sets = [];

    /// <summary>The set of <paramref name="count"/> vectors (a multiple of 10, at most 100 000).</summary>
    public static TestSet Set(int count)
    {
        lock (s_sets)
        {
            if (!s_sets.TryGetValue(count, out var set))
            {
                set = Make(count);
                s_sets[count] = set;
            }

            return set;
        }
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

    private static TestSet Make(int count)
    {
        int identities = count / 10;
        var rows = s_rows.Value;
        var vectors = new List<FaceVector>(count);
        var identityOf = new List<int>(count);
        for (int row = 0; row < rows.Length && vectors.Count < count; row++)
        {
            int identity = SyntheticFaces.IdentityOfBaseRow(row);
            if (identity < identities)
            {
                vectors.Add(rows[row]);
                identityOf.Add(identity);
            }
        }

        // Queries: the benchmark's queries of the identities present, and every so many stored vectors.
        var queries = new List<FaceVector>();
        var queryIdentity = new List<int>();
        for (int q = 0; q < s_queries.Value.Length; q++)
        {
            int identity = SyntheticFaces.IdentityOfQuery(q, SyntheticFaces.BlockSize);
            if (identity < identities)
            {
                queries.Add(s_queries.Value[q]);
                queryIdentity.Add(identity);
            }
        }

        for (int i = 0; i < count; i += Math.Max(1, count / 300))
        {
            queries.Add(vectors[i]);
            queryIdentity.Add(identityOf[i]);
        }

        var ids = new long[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = 1000 + i;
        }

        return new TestSet([.. vectors], [.. identityOf], ids, [.. queries], [.. queryIdentity]);
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

/// <summary>A test set: vectors with their identities and ids (1000 + row), and queries with their identities.</summary>
internal sealed record TestSet(FaceVector[] Vectors, int[] Identities, long[] Ids, FaceVector[] Queries, int[] QueryIdentities)
{
    /// <summary>The queries whose identity passes <paramref name="keep"/>.</summary>
    public FaceVector[] QueriesWhere(Func<int, bool> keep) =>
        Queries.Where((_, i) => keep(QueryIdentities[i])).ToArray();
}
