namespace FaceIndex.Index.Tests;

public sealed class HnswIdListTests
{
    [Fact]
    public void GetIds_lists_the_present_ids_in_insert_order_without_the_removed_ones()
    {
        var vectors = TestData.Set(600).Vectors;
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0, EfConstruction = 32, InitialCapacity = 10 });
        Assert.Empty(index.GetIds());
        var random = new Random(3);
        var ids = Enumerable.Range(0, 600).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).Distinct().ToArray();
        for (int i = 0; i < ids.Length; i++)
        {
            index.Add(ids[i], vectors[i]);
        }

        Assert.Equal(ids, index.GetIds());
        var removed = ids.Where((_, i) => i % 4 == 1).ToHashSet();
        foreach (long id in removed)
        {
            Assert.True(index.Remove(id));
        }

        var live = ids.Where(id => !removed.Contains(id)).ToArray();
        Assert.Equal(live, index.GetIds());
        Assert.All(index.GetIds(), id => Assert.True(index.Contains(id)));

        // The snapshot keeps the list; after a repair, re-added ids fill the freed slots.
        using var stream = new MemoryStream();
        index.Save(stream, 0);
        stream.Position = 0;
        using var loaded = HnswIndex.Load(stream, out _);
        Assert.Equal(live, loaded.GetIds());
        loaded.Repair();
        loaded.Add(1, vectors[0]);
        loaded.Add(2, vectors[1]);
        var after = loaded.GetIds();
        Assert.Equal(live.Length + 2, after.Length);
        Assert.Equal(live.Append(1).Append(2).Order(), after.Order());
        Assert.True(Array.IndexOf(after, 1) < live.Length && Array.IndexOf(after, 2) < live.Length, "re-added ids take freed slots, not new ones at the end");
    }

    [Fact]
    public void Reconciling_with_a_store_removes_the_ids_it_no_longer_holds()
    {
        var set = TestData.Set(2000);
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0, EfConstruction = 64 });
        index.AddRange(set.Ids, set.Vectors, maxDegreeOfParallelism: 2);
        var store = set.Ids.Where(id => id % 5 != 0).ToHashSet();
        foreach (long id in index.GetIds())
        {
            if (!store.Contains(id))
            {
                Assert.True(index.Remove(id));
            }
        }

        Assert.Equal(store.Order(), index.GetIds().Order());
        Assert.Equal(store.Count, index.Count);
        var results = new Neighbor[10];
        foreach (var query in set.Queries)
        {
            int n = index.Search(query, results);
            Assert.All(results[..n], r => Assert.Contains(r.Id, store));
        }
    }
}
