using CsCheck;
using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Gpu.Tests;

/// <summary>
/// The GPU kernels, run by ILGPU's CPU accelerator, against the CPU scan: identical neighbours,
/// scores and order on random codes, at sizes around the kernels' tile (64 vectors) and group
/// (32 or 128 queries) boundaries.
/// </summary>
public sealed class KernelEquivalenceTests(ScannerFixture fixture) : IClassFixture<ScannerFixture>
{
    private readonly CpuExactScanner _cpu = new(2);

    [Theory]
    [InlineData(1, 1, 1, 127)]
    [InlineData(63, 63, 5, 127)]
    [InlineData(64, 64, 64, 2)]
    [InlineData(65, 33, 64, 1)]
    [InlineData(129, 129, 32, 3)]
    [InlineData(300, 7, 255, 127)]
    [InlineData(517, 130, 10, 1)]
    public void Kernel_finds_the_same_neighbours_as_the_cpu_scan(int corpus, int queries, int k, int spread)
    {
        var (vectors, ids) = RandomCodes.Create(corpus, spread, seed: corpus * 31 + k);
        var query = vectors.AsSpan(0, queries).ToArray();
        var excluded = ids.AsSpan(0, queries).ToArray();

        foreach (int minScore in new[] { int.MinValue, 0 })
        {
            AssertSame(vectors, ids, query, excluded, k, minScore);
            AssertSame(vectors, ids, query, [], k, minScore);
        }
    }

    [Fact]
    public void Property_random_sizes_give_identical_results()
    {
        var sizes = Gen.Select(Gen.Int[1, 400], Gen.Int[1, 150], Gen.Int[1, 40], Gen.Int[1, 127], Gen.Int[-200, 200], Gen.Bool);
        sizes.Sample(
            (corpus, queries, k, spread, minScore, excludes) =>
            {
                var (vectors, ids) = RandomCodes.Create(corpus, spread, seed: corpus ^ (queries << 10) ^ (k << 20));
                var (query, _) = RandomCodes.Create(queries, spread, seed: k + spread);
                var excluded = excludes ? ids.Take(Math.Min(queries, corpus)).Concat(Enumerable.Repeat(-1L, Math.Max(0, queries - corpus))).ToArray() : [];
                AssertSame(vectors, ids, query, excluded, k, minScore);
            },
            iter: 25);
    }

    [Fact]
    public void Corpus_synced_in_parts_matches_a_fresh_one()
    {
        var (vectors, ids) = RandomCodes.Create(260, 4, seed: 5);
        using var corpus = fixture.Scanner.CreateCorpus();
        corpus.Sync(vectors.AsSpan(0, 100), ids.AsSpan(0, 100), 0);
        corpus.Sync(vectors.AsSpan(0, 260), ids.AsSpan(0, 260), 100);

        // A removal as the exact index does it: the last vector moves into the hole.
        vectors[17] = vectors[259];
        ids[17] = ids[259];
        corpus.Sync(vectors.AsSpan(0, 259), ids.AsSpan(0, 259), 17);

        var remaining = vectors.AsSpan(0, 259).ToArray();
        var remainingIds = ids.AsSpan(0, 259).ToArray();
        Assert.Equal(259, corpus.Count);
        var expected = Search(_cpu, remaining, remainingIds, remaining, [], 9, int.MinValue);
        var hits = new ScanHit[remaining.Length * 9];
        var counts = new int[remaining.Length];
        corpus.Search(remaining, ReadOnlyMemory<long>.Empty, 9, int.MinValue, hits, counts);
        Assert.Equal(expected, Lists(hits, counts, 9));
    }

    [Fact]
    public void Empty_corpus_and_empty_batch_give_no_results()
    {
        var (vectors, ids) = RandomCodes.Create(3, 10, seed: 1);
        using var corpus = fixture.Scanner.CreateCorpus();
        var counts = new[] { 5, 5, 5 };
        corpus.Search(vectors, ids, 4, int.MinValue, new ScanHit[12], counts);
        Assert.Equal([0, 0, 0], counts);

        corpus.Sync(vectors, ids, 0);
        corpus.Search(ReadOnlyMemory<FaceVector>.Empty, ReadOnlyMemory<long>.Empty, 4, int.MinValue, Memory<ScanHit>.Empty, Memory<int>.Empty);
    }

    [Fact]
    public void Bad_arguments_are_refused_with_the_reason()
    {
        var (vectors, ids) = RandomCodes.Create(4, 10, seed: 2);
        using var corpus = fixture.Scanner.CreateCorpus();
        var ex = Assert.Throws<ArgumentException>(() => corpus.Sync(vectors, ids.AsSpan(0, 3), 0));
        Assert.Contains("4 vectors but 3 ids", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => corpus.Search(vectors, ids, 0, 0, new ScanHit[4], new int[4]));
        Assert.Contains("k = 0", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => corpus.Search(vectors, ids, 2, 0, new ScanHit[7], new int[4]));
        Assert.Contains("7 result slots for 4 queries", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => corpus.Search(vectors, ids.AsMemory(0, 2), 2, 0, new ScanHit[8], new int[4]));
        Assert.Contains("2 excluded ids for 4 queries", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_start_up_check_accepts_the_kernels()
    {
        Assert.True(ExactScanners.AgreesWith(fixture.Scanner, _cpu, out string disagreement), disagreement);
    }

    private void AssertSame(FaceVector[] vectors, long[] ids, FaceVector[] queries, long[] excluded, int k, int minScore)
    {
        var expected = Search(_cpu, vectors, ids, queries, excluded, k, minScore);
        var actual = Search(fixture.Scanner, vectors, ids, queries, excluded, k, minScore);
        Assert.Equal(Naive(vectors, ids, queries, excluded, k, minScore), expected);
        Assert.Equal(expected.Length, actual.Length);
        for (int q = 0; q < expected.Length; q++)
        {
            Assert.True(expected[q].SequenceEqual(actual[q]), $"query {q} of {queries.Length}, corpus {vectors.Length}, k {k}, minScore {minScore}: expected {string.Join(' ', expected[q])}, got {string.Join(' ', actual[q])}");
        }
    }

    private static ScanHit[][] Search(IExactScanner scanner, FaceVector[] vectors, long[] ids, FaceVector[] queries, long[] excluded, int k, int minScore)
    {
        using var corpus = scanner.CreateCorpus();
        corpus.Sync(vectors, ids, 0);
        var hits = new ScanHit[queries.Length * k];
        var counts = new int[queries.Length];
        corpus.Search(queries, excluded, k, minScore, hits, counts);
        return Lists(hits, counts, k);
    }

    /// <summary>The definition, by sorting every pair: score descending, then id ascending.</summary>
    private static ScanHit[][] Naive(FaceVector[] vectors, long[] ids, FaceVector[] queries, long[] excluded, int k, int minScore) =>
        queries.Select((query, q) => Enumerable.Range(0, vectors.Length)
                .Where(i => excluded.Length == 0 || ids[i] != excluded[q])
                .Select(i => new ScanHit(i, query.Dot(vectors[i])))
                .Where(hit => hit.Score >= minScore)
                .OrderByDescending(hit => hit.Score).ThenBy(hit => ids[hit.Index])
                .Take(k)
                .ToArray())
            .ToArray();

    private static ScanHit[][] Lists(ScanHit[] hits, int[] counts, int k) =>
        counts.Select((count, q) => hits.AsSpan(q * k, count).ToArray()).ToArray();
}
