
namespace FaceIndex.Index.Tests;

public sealed class HnswEdgeCaseTests
{
    [Fact]
    public void An_empty_index_finds_nothing()
    {
        using var index = new HnswIndex();
        var results = new Neighbor[10];
        Assert.Equal(0, index.Search(TestData.Set(10).Queries[0], results));
        Assert.Equal(0, index.Count);
        Assert.False(index.Contains(1));
        Assert.False(index.Remove(1));
        index.Repair();
        using var stream = new MemoryStream();
        index.Save(stream, 5);
        stream.Position = 0;
        using var loaded = HnswIndex.Load(stream, out long watermark);
        Assert.Equal(5, watermark);
        Assert.Equal(0, loaded.Search(TestData.Set(10).Queries[0], results));
        loaded.Add(1, TestData.Set(10).Queries[0]);
        Assert.Equal(1, loaded.Search(TestData.Set(10).Queries[0], results));
    }

    [Fact]
    public void K_above_the_count_returns_every_vector_once_best_first()
    {
        using var index = new HnswIndex(new IndexOptions { InitialCapacity = 1 });
        var vectors = TestData.Set(40).Vectors;
        for (int i = 0; i < 40; i++)
        {
            index.Add(i * 10, vectors[i]);
        }

        var results = new Neighbor[100];
        int n = index.Search(vectors[5], results);
        Assert.Equal(40, n);
        Assert.Equal(40, results[..n].Select(r => r.Id).Distinct().Count());
        Assert.Equal(50, results[0].Id);
        for (int i = 1; i < n; i++)
        {
            Assert.True(results[i - 1].Score >= results[i].Score);
        }

        Assert.Equal(0, index.Search(vectors[5], Span<Neighbor>.Empty));
    }

    [Fact]
    public void A_duplicate_id_is_refused_and_a_removed_id_can_come_back()
    {
        using var index = new HnswIndex();
        var vectors = TestData.Set(10).Vectors;
        index.Add(42, vectors[0]);
        var error = Assert.Throws<ArgumentException>(() => index.Add(42, vectors[1]));
        Assert.Contains("42", error.Message);
        Assert.Equal(1, index.Count);
        Assert.True(index.Remove(42));
        index.Add(42, vectors[2]);
        Assert.True(index.TryGetVector(42, out var stored));
        Assert.Equal(vectors[2], stored);
        var results = new Neighbor[2];
        Assert.Equal(1, index.Search(vectors[0], results));
        Assert.Equal(vectors[0].Dot(vectors[2]), results[0].Score);
    }

    [Fact]
    public void Identical_vectors_under_many_ids_are_all_found()
    {
        using var index = new HnswIndex(new IndexOptions { M = 4 });
        var vector = TestData.Set(10).Vectors[0];
        for (int i = 0; i < 50; i++)
        {
            index.Add(i, vector);
        }

        var results = new Neighbor[50];
        Assert.Equal(50, index.Search(vector, results, ef: 100));
        Assert.Equal(50, results.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public void Copies_of_one_face_among_others_are_all_found()
    {
        // One face enrolled 40 times (under 40 ids) among 4 000 others, copies spread over the inserts.
        var set = TestData.Set(4000);
        using var index = new HnswIndex(new IndexOptions { EfConstruction = 64 });
        var copy = set.Vectors[123];
        int next = 0;
        for (int row = 0; row < 4000; row++)
        {
            index.Add(row, set.Vectors[row]);
            if (row % 100 == 7)
            {
                index.Add(100_000 + next++, copy);
            }
        }

        var results = new Neighbor[41];
        Assert.Equal(41, index.Search(copy, results, ef: 64));
        var ids = results.Select(r => r.Id).ToHashSet();
        Assert.Contains(123L, ids);
        Assert.All(Enumerable.Range(0, 40), i => Assert.Contains(100_000L + i, ids));
        Assert.All(results, r => Assert.Equal(copy.Dot(copy), r.Score));
    }

    [Theory]
    [InlineData(nameof(IndexOptions.M), 1)]
    [InlineData(nameof(IndexOptions.M), 65)]
    [InlineData(nameof(IndexOptions.EfConstruction), 0)]
    [InlineData(nameof(IndexOptions.EfSearch), 0)]
    [InlineData(nameof(IndexOptions.InitialCapacity), 0)]
    public void Invalid_options_are_refused_by_name(string name, int value)
    {
        var options = new IndexOptions();
        typeof(IndexOptions).GetProperty(name)!.SetValue(options, value);
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Contains(name, error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(options));
        Assert.Throws<ArgumentOutOfRangeException>(() => new IndexOptions { RepairThreshold = 1 }.Validate());
    }

    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        var options = new IndexOptions();
        Assert.Equal(16, options.M);
        Assert.Equal(32, options.MaxLinksBase);
        Assert.Equal(200, options.EfConstruction);
        Assert.Equal(64, options.EfSearch);
        options.Validate();
    }
}
