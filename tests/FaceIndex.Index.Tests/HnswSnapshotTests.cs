using FaceIndex.Testing;

namespace FaceIndex.Index.Tests;

public sealed class HnswSnapshotTests(LargeIndexFixture fixture) : IClassFixture<LargeIndexFixture>
{
    [Fact]
    public void A_round_trip_through_a_file_gives_identical_results_and_the_watermark()
    {
        using var directory = TestPaths.NewTempDirectory();
        var path = Path.Combine(directory.Path, "index.snapshot");
        File.WriteAllText(path, "an older snapshot");
        fixture.Hnsw.Save(path, watermark: 123_456_789_012);
        Assert.Equal(["index.snapshot"], Directory.GetFiles(directory.Path).Select(Path.GetFileName));

        using var loaded = LoadFile(path, out long watermark);
        Assert.Equal(123_456_789_012, watermark);
        Assert.Equal(fixture.Hnsw.Count, loaded.Count);
        Assert.Equal(fixture.Hnsw.Options.M, loaded.Options.M);
        var before = new Neighbor[10];
        var after = new Neighbor[10];
        foreach (var query in fixture.Set.Queries)
        {
            foreach (int ef in new[] { 16, 64 })
            {
                int n = fixture.Hnsw.Search(query, before, ef);
                int m = loaded.Search(query, after, ef);
                Assert.Equal(n, m);
                Assert.True(before.AsSpan(0, n).SequenceEqual(after.AsSpan(0, m)));
            }
        }

        Assert.True(loaded.Contains(1000));
        Assert.False(loaded.Contains(999));
    }

    [Fact]
    public void A_loaded_index_takes_deletes_and_adds_and_saves_again()
    {
        var vectors = TestData.Set(2000).Vectors;
        using var index = new HnswIndex(new IndexOptions { RepairThreshold = 0, EfConstruction = 64 });
        for (int row = 0; row < 1500; row++)
        {
            index.Add(row, vectors[row]);
        }

        for (int row = 0; row < 100; row++)
        {
            index.Remove(row * 3);
        }

        var first = SaveToArray(index, 7);
        using var loaded = HnswIndex.Load(new MemoryStream(first), out _);
        Assert.Equal(100, loaded.DeletedCount);
        loaded.Repair();
        for (int row = 1500; row < 2000; row++)
        {
            loaded.Add(row, vectors[row]);
        }

        var second = SaveToArray(loaded, 8);
        using var again = HnswIndex.Load(new MemoryStream(second), out long watermark);
        Assert.Equal(8, watermark);
        Assert.Equal(1900, again.Count);
        var results = new Neighbor[3];
        again.Search(vectors[1999], results);
        Assert.Equal(1999, results[0].Id);
        Assert.False(again.Contains(3));
    }

    [Fact]
    public void Corrupt_truncated_foreign_and_other_version_snapshots_are_refused_with_their_fault()
    {
        var vectors = TestData.Set(500).Vectors;
        using var index = new HnswIndex();
        for (int row = 0; row < 500; row++)
        {
            index.Add(row, vectors[row]);
        }

        var good = SaveToArray(index, 1);
        Assert.Equal(SnapshotFault.ChecksumMismatch, Refuse(Flip(good, good.Length / 2)));
        Assert.Equal(SnapshotFault.ChecksumMismatch, Refuse(Flip(good, 50)));
        Assert.Equal(SnapshotFault.ChecksumMismatch, Refuse(Flip(good, good.Length - 3)));
        Assert.Equal(SnapshotFault.Truncated, Refuse(good[..(good.Length - 1)]));
        Assert.Equal(SnapshotFault.Truncated, Refuse(good[..20]));
        Assert.Equal(SnapshotFault.NotASnapshot, Refuse([]));
        Assert.Equal(SnapshotFault.NotASnapshot, Refuse(Flip(good, 0)));
        var otherVersion = (byte[])good.Clone();
        otherVersion[8] = 99;
        Assert.Equal(SnapshotFault.UnsupportedVersion, Refuse(otherVersion));

        var error = Assert.Throws<IndexSnapshotException>(() => HnswIndex.Load(new MemoryStream(Flip(good, good.Length / 3)), out _));
        Assert.Equal(SnapshotFault.ChecksumMismatch, error.Fault);
        Assert.True(HnswIndex.TryLoad(new MemoryStream(good), out var loaded, out long watermark, out _, out _));
        Assert.Equal(1, watermark);
        loaded.Dispose();
    }

    private static SnapshotFault Refuse(byte[] bytes)
    {
        Assert.False(HnswIndex.TryLoad(new MemoryStream(bytes), out var index, out _, out var fault, out string message));
        Assert.Null(index);
        Assert.NotEmpty(message);
        return fault;
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    private static byte[] SaveToArray(HnswIndex index, long watermark)
    {
        using var stream = new MemoryStream();
        index.Save(stream, watermark);
        return stream.ToArray();
    }

    private static HnswIndex LoadFile(string path, out long watermark)
    {
        using var file = File.OpenRead(path);
        return HnswIndex.Load(file, out watermark);
    }
}
