namespace FaceIndex.Index.Tests;

public sealed class HnswRecallTests(LargeIndexFixture fixture) : IClassFixture<LargeIndexFixture>
{
    [Fact]
    public void Recall_at_10_is_at_least_0_95_at_the_default_ef_on_50k_synthetic_faces()
    {
        Assert.Equal(LargeIndexFixture.Size, fixture.Hnsw.Count);
        double recall = TestData.Recall(fixture.Hnsw, fixture.Exact, fixture.Set.Queries);
        Assert.True(recall >= 0.95, $"recall@10 = {recall:F4}");
    }

    [Fact]
    public void Recall_rises_with_ef_and_scores_are_the_true_dot_products()
    {
        double low = TestData.Recall(fixture.Hnsw, fixture.Exact, fixture.Set.Queries, ef: 10);
        double high = TestData.Recall(fixture.Hnsw, fixture.Exact, fixture.Set.Queries, ef: 256);
        Assert.True(high >= low, $"ef 10: {low:F4}, ef 256: {high:F4}");
        Assert.True(high >= 0.99, $"ef 256: {high:F4}");

        var results = new Neighbor[10];
        var query = fixture.Set.Queries[7];
        int n = fixture.Hnsw.Search(query, results);
        Assert.Equal(10, n);
        for (int i = 0; i < n; i++)
        {
            Assert.True(fixture.Hnsw.TryGetVector(results[i].Id, out var stored));
            Assert.Equal(query.Dot(stored), results[i].Score);
            Assert.True(i == 0 || results[i - 1].Score >= results[i].Score);
        }
    }

    [Fact]
    public void Memory_per_vector_stays_near_the_layout_s_280_bytes()
    {
        double perVector = (double)fixture.Hnsw.MemoryBytes / fixture.Hnsw.Count;
        // 128 vector + 128 base links + 8 id + 4 upper ref + id map + upper layers; growth slack on top.
        Assert.InRange(perVector, 268, 480);
    }

    [Fact]
    public void A_stored_vector_is_found_first_with_its_own_score()
    {
        var results = new Neighbor[1];
        var vectors = fixture.Set.Vectors;
        int misses = 0;
        for (int row = 0; row < LargeIndexFixture.Size; row += 97)
        {
            fixture.Hnsw.Search(vectors[row], results);
            if (results[0].Id != 1000 + row && results[0].Score != vectors[row].Dot(vectors[row]))
            {
                misses++;
            }
        }

        Assert.True(misses <= 2, $"{misses} self-queries missed");
    }
}
