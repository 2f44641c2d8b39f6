using CsCheck;

namespace FaceIndex.Index.Tests;

public sealed class HnswDeleteTests
{
    private const int Size = 4_000;
    private static readonly Lazy<byte[]> s_snapshot = new(BuildSnapshot);

    [Fact]
    public void Deleted_faces_are_never_returned()
    {
        var vectors = TestData.Set(Size).Vectors;
        Gen.Int[0, Size - 1].HashSet[1, 1500].Sample(
            deleted =>
            {
                using var index = LoadSnapshot();
                foreach (int row in deleted)
                {
                    Assert.True(index.Remove(1000 + row));
                }

                Assert.Equal(Size - deleted.Count, index.Count);
                Assert.Equal(deleted.Count, index.DeletedCount);
                var results = new Neighbor[20];
                for (int row = 0; row < Size; row += 41)
                {
                    // Query with the deleted vectors themselves: the strongest pull towards a tombstone.
                    int n = index.Search(vectors[row], results, ef: 32);
                    Assert.True(n > 0);
                    for (int i = 0; i < n; i++)
                    {
                        Assert.DoesNotContain((int)(results[i].Id - 1000), deleted);
                    }
                }

                foreach (int row in deleted)
                {
                    Assert.False(index.Contains(1000 + row));
                    Assert.False(index.TryGetVector(1000 + row, out _));
                    Assert.False(index.Remove(1000 + row));
                }
            },
            iter: 12,
            threads: 1);
    }

    [Fact]
    public void Repair_frees_the_deleted_slots_and_keeps_recall()
    {
        using var index = LoadSnapshot();
        var set = TestData.Set(Size);
        var vectors = set.Vectors;

        // Delete whole identities (a person deleted), 30 % of them: the queries of the others keep
        // their exact top-10, which the repaired graph must still find.
        var random = new Random(7);
        var deletedIdentities = new HashSet<int>();
        while (deletedIdentities.Count < Size / 10 * 3 / 10)
        {
            deletedIdentities.Add(random.Next(Size / 10));
        }

        var deleted = new HashSet<int>();
        using var exact = new ExactIndex();
        for (int row = 0; row < Size; row++)
        {
            if (deletedIdentities.Contains(set.Identities[row]))
            {
                Assert.True(index.Remove(1000 + row));
                deleted.Add(row);
            }
            else
            {
                exact.Add(1000 + row, vectors[row]);
            }
        }

        index.Repair();
        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(exact.Count, index.Count);
        var liveQueries = set.QueriesWhere(identity => !deletedIdentities.Contains(identity));
        double afterRepair = TestData.Recall(index, exact, liveQueries);
        Assert.True(afterRepair >= 0.95, $"recall after repair {afterRepair:F4}");

        // The freed slots take new vectors: re-adding the deleted rows under new ids restores the full set.
        int slotsBefore = index.SlotsInUse;
        foreach (int row in deleted)
        {
            index.Add(100_000 + row, vectors[row]);
            exact.Add(100_000 + row, vectors[row]);
        }

        Assert.Equal(Size, index.Count);
        Assert.Equal(slotsBefore, index.SlotsInUse);
        double afterReuse = TestData.Recall(index, exact, set.Queries);
        Assert.True(afterReuse >= 0.95, $"recall after reuse {afterReuse:F4}");
    }

    [Fact]
    public void Deleting_everything_empties_the_index_and_it_fills_again()
    {
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0 });
        var vectors = TestData.Set(300).Vectors;
        for (int row = 0; row < 300; row++)
        {
            index.Add(row, vectors[row]);
        }

        for (int row = 0; row < 300; row++)
        {
            Assert.True(index.Remove(row));
        }

        var results = new Neighbor[5];
        Assert.Equal(0, index.Search(vectors[3], results));
        index.Repair();
        Assert.Equal(0, index.Search(vectors[3], results));
        index.Add(3, vectors[3]);
        index.Add(4, vectors[4]);
        Assert.Equal(2, index.Search(vectors[3], results));
        Assert.Equal(3, results[0].Id);
    }

    private static HnswIndex LoadSnapshot()
    {
        using var stream = new MemoryStream(s_snapshot.Value, writable: false);
        return HnswIndex.Load(stream, out _);
    }

    /// <summary>One build, saved once; each test case loads its own copy (a snapshot load is much faster than a build).</summary>
    private static byte[] BuildSnapshot()
    {
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0, EfConstruction = 100 });
        index.AddRange(TestData.Set(Size).Ids, TestData.Set(Size).Vectors, maxDegreeOfParallelism: 2);
        using var stream = new MemoryStream();
        index.Save(stream, watermark: 0);
        return stream.ToArray();
    }
}
