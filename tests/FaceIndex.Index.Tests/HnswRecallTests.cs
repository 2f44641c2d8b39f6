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
    public void Memory_is_the_layout_s_264_bytes_per_slot_plus_small_upper_layers_and_id_map()
    {
        var index = fixture.Hnsw;
        var memory = index.MemoryBreakdown();
        Assert.Equal(index.MemoryBytes, memory.Vectors + memory.BaseLists + memory.IdsAndTombstones + memory.UpperLayers + memory.IdMap + memory.Scratch);

        // Per slot: 128 vector + 32 × 4 base links + 8 id + 1/8 tombstone; the fixture grew from
        // 1 000 slots by halves, so the capacity is at most 1.5 × the count.
        long capacity = memory.Vectors / 128;
        Assert.Equal(capacity * 128, memory.BaseLists);
        Assert.InRange(memory.IdsAndTombstones, capacity * 8, (capacity * 8) + (capacity / 8) + 8);
        Assert.InRange(capacity, LargeIndexFixture.Size, LargeIndexFixture.Size * 3 / 2);

        // About one node in 32 has upper layers (17 ints at level 1, a map entry); the id map is
        // at most 90 % full at capacity.
        double perVector = 1.0 / LargeIndexFixture.Size;
        Assert.InRange(memory.UpperLayers * perVector, 1.8, 4.5);
        Assert.InRange(memory.IdMap / (double)capacity, 4.4, 4.5);
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
