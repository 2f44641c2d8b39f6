using CsCheck;
using FaceIndex.Core;

namespace FaceIndex.Index.Tests;

public sealed class HnswExactSearchTests(LargeIndexFixture fixture) : IClassFixture<LargeIndexFixture>
{
    [Fact]
    public void SearchExact_matches_a_naive_sort_with_ties_broken_by_the_later_insert()
    {
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 40], Gen.Int[1, 127], Gen.Int[0, 1000]).Sample(
            (count, k, range, seed) =>
            {
                // Small component ranges give many equal scores; ids rise with the insert order.
                var vectors = TestData.Random(count, seed, range);
                using var index = new HnswIndex(new IndexOptions { M = 4, EfConstruction = 16, RepairThreshold = 0, InitialCapacity = 7 });
                for (int i = 0; i < count; i++)
                {
                    index.Add(10 * i, vectors[i]);
                }

                var live = Enumerable.Range(0, count).ToList();
                for (int i = 0; i < count; i += 3)
                {
                    Assert.True(index.Remove(10 * i));
                    live.Remove(i);
                }

                var query = TestData.Random(1, seed + 1, range)[0];
                var expected = live
                    .Select(i => new Neighbor(10 * i, VectorMath.DotScalar(query.AsSpan(), vectors[i].AsSpan())))
                    .OrderByDescending(n => n.Score).ThenByDescending(n => n.Id)
                    .Take(k).ToArray();
                var results = new Neighbor[k];
                int found = index.SearchExact(query, results);
                Assert.Equal(expected.Length, found);
                Assert.Equal(expected, results[..found]);
            },
            iter: 150,
            threads: 1);
    }

    [Fact]
    public void SearchExact_agrees_with_the_exact_index_on_50k_synthetic_faces()
    {
        var found = new Neighbor[10];
        var expected = new Neighbor[10];
        foreach (var query in fixture.Set.Queries.Take(200))
        {
            Assert.Equal(10, fixture.Hnsw.SearchExact(query, found));
            Assert.Equal(10, fixture.Exact.Search(query, expected));
            Assert.Equal(expected.Select(n => n.Score), found.Select(n => n.Score));
            Assert.Equal(expected.Select(n => n.Id).Order(), found.Select(n => n.Id).Order());
        }
    }

    [Fact]
    public void SearchExact_skips_deleted_and_freed_slots_and_sees_reused_ones()
    {
        var vectors = TestData.Set(1000).Vectors;
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0, EfConstruction = 32 });
        using var exact = new ExactIndex();
        for (int row = 0; row < 1000; row++)
        {
            index.Add(row, vectors[row]);
            exact.Add(row, vectors[row]);
        }

        for (int row = 0; row < 1000; row += 2)
        {
            index.Remove(row);
            exact.Remove(row);
        }

        AssertSameScores(index, exact, vectors);
        index.Repair();
        AssertSameScores(index, exact, vectors);
        for (int row = 0; row < 300; row += 2)
        {
            index.Add(5000 + row, vectors[row]);
            exact.Add(5000 + row, vectors[row]);
        }

        AssertSameScores(index, exact, vectors);
        Assert.Equal(0, index.SearchExact(vectors[0], Span<Neighbor>.Empty));
        using var empty = new HnswIndex();
        Assert.Equal(0, empty.SearchExact(vectors[0], new Neighbor[3]));
    }

    private static void AssertSameScores(HnswIndex index, ExactIndex exact, FaceVector[] queries)
    {
        var found = new Neighbor[15];
        var expected = new Neighbor[15];
        for (int q = 0; q < queries.Length; q += 37)
        {
            int n = index.SearchExact(queries[q], found);
            int m = exact.Search(queries[q], expected);
            Assert.Equal(m, n);
            Assert.Equal(expected[..m].Select(r => r.Score), found[..n].Select(r => r.Score));
            Assert.All(found[..n], r => Assert.True(exact.Contains(r.Id)));
        }
    }
}
