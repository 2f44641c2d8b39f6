using CsCheck;
using FaceIndex.Core;

namespace FaceIndex.Index.Tests;

public sealed class ExactIndexTests
{
    [Fact]
    public void Search_matches_a_naive_sort_with_ties_broken_by_id()
    {
        Gen.Select(Gen.Int[1, 400], Gen.Int[1, 60], Gen.Int[1, 127], Gen.Int[0, 1000]).Sample(
            (count, k, range, seed) =>
            {
                // Small component ranges give many equal scores.
                var vectors = TestData.Random(count, seed, range);
                var random = new Random(seed);
                var ids = Enumerable.Range(0, count).Select(_ => random.NextInt64(-1_000_000, 1_000_000)).Distinct().ToArray();
                using var index = new ExactIndex(4);
                for (int i = 0; i < ids.Length; i++)
                {
                    index.Add(ids[i], vectors[i]);
                }

                // Remove a few, so that the swap-on-remove path is covered.
                var live = Enumerable.Range(0, ids.Length).ToList();
                for (int i = 0; i < ids.Length; i += 5)
                {
                    Assert.True(index.Remove(ids[i]));
                    live.Remove(i);
                }

                var query = TestData.Random(1, seed + 1, range)[0];
                var expected = live
                    .Select(i => new Neighbor(ids[i], VectorMath.DotScalar(query.AsSpan(), vectors[i].AsSpan())))
                    .OrderByDescending(n => n.Score).ThenBy(n => n.Id)
                    .Take(k).ToArray();
                var results = new Neighbor[k];
                int found = index.Search(query, results);
                Assert.Equal(expected.Length, found);
                Assert.Equal(expected, results[..found]);
            },
            iter: 200,
            threads: 1);
    }

    [Fact]
    public void A_large_collection_is_scanned_in_parallel_with_the_same_results()
    {
        const int count = 270_000;
        var vectors = TestData.Random(count, 11);
        using var index = new ExactIndex(count);
        for (int i = 0; i < count; i++)
        {
            index.Add(i, vectors[i]);
        }

        var query = vectors[12_345];
        var results = new Neighbor[25];
        Assert.Equal(25, index.Search(query, results));
        var expected = Enumerable.Range(0, count)
            .Select(i => new Neighbor(i, query.Dot(vectors[i])))
            .OrderByDescending(n => n.Score).ThenBy(n => n.Id)
            .Take(25).ToArray();
        Assert.Equal(expected, results);
        Assert.Equal(12_345, results[0].Id);
    }

    [Fact]
    public void Edge_cases()
    {
        using var index = new ExactIndex(0);
        var vectors = TestData.Random(3, 1);
        var results = new Neighbor[10];
        Assert.Equal(0, index.Search(vectors[0], results));
        index.Add(1, vectors[0]);
        index.Add(2, vectors[1]);
        Assert.Throws<ArgumentException>(() => index.Add(2, vectors[2]));
        Assert.Equal(2, index.Search(vectors[1], results));
        Assert.Equal(2, results[0].Id);
        Assert.Equal(0, index.Search(vectors[1], Span<Neighbor>.Empty));
        Assert.True(index.TryGetVector(1, out var stored));
        Assert.Equal(vectors[0], stored);
        Assert.False(index.Remove(3));
        Assert.True(index.Remove(1));
        Assert.False(index.Contains(1));
        Assert.Equal(1, index.Count);
    }
}
