namespace FaceIndex.Index.Tests;

/// <summary>
/// Many faces enrolled twice (the same image under two person ids, or a re-import): the copies must
/// not cut the graph off from the faces they duplicate.
/// </summary>
public sealed class HnswDuplicateLoadTests
{
    [Fact]
    public void Recall_holds_when_a_fifth_of_the_vectors_are_added_again_later()
    {
        var set = TestData.Set(20_000);
        using var hnsw = new HnswIndex(new IndexOptions { InitialCapacity = 25_000 });
        using var exact = new ExactIndex(25_000);
        for (int i = 0; i < set.Vectors.Length; i++)
        {
            hnsw.Add(set.Ids[i], set.Vectors[i]);
            exact.Add(set.Ids[i], set.Vectors[i]);
        }

        double before = ScoreRecall(hnsw, exact, set.Queries);
        for (int i = 0; i < 4_000; i++)
        {
            hnsw.Add(1_000_000 + i, set.Vectors[i]);
            exact.Add(1_000_000 + i, set.Vectors[i]);
        }

        double after = ScoreRecall(hnsw, exact, set.Queries);
        Assert.True(before >= 0.95, $"recall before the copies {before:F4}");
        Assert.True(after >= 0.95, $"recall after the copies {after:F4} (before {before:F4})");
    }

    /// <summary>Recall by score: ties between copies make ids ambiguous, scores are not.</summary>
    private static double ScoreRecall(HnswIndex index, ExactIndex truth, FaceIndex.Core.FaceVector[] queries)
    {
        var found = new Neighbor[10];
        var expected = new Neighbor[10];
        long hits = 0;
        foreach (var query in queries)
        {
            int n = index.Search(query, found);
            truth.Search(query, expected);
            var scores = expected.Select(e => e.Score).ToList();
            foreach (var f in found[..n])
            {
                if (scores.Remove(f.Score))
                {
                    hits++;
                }
            }
        }

        return (double)hits / (queries.Length * 10);
    }
}
