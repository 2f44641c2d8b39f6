namespace FaceIndex.Index.Tests;

/// <summary>One 50 000-vector HNSW index (default options, built on two threads) and its exact twin, shared by the tests that only read them.</summary>
public sealed class LargeIndexFixture : IDisposable
{
    public const int Size = 50_000;

    public LargeIndexFixture()
    {
        Set = TestData.Set(Size);
        Hnsw = new HnswIndex(new IndexOptions { InitialCapacity = 1000 });
        Hnsw.AddRange(Set.Ids, Set.Vectors, maxDegreeOfParallelism: 2);
        Exact = TestData.Exact(Set.Ids, Set.Vectors);
    }

    internal TestSet Set { get; }

    public HnswIndex Hnsw { get; }

    public ExactIndex Exact { get; }

    public void Dispose()
    {
        Hnsw.Dispose();
        Exact.Dispose();
    }
}
