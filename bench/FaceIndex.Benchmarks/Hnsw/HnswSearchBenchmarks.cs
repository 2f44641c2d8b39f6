using BenchmarkDotNet.Attributes;
using FaceIndex.Core;
using FaceIndex.Index;
using FaceIndex.Testing;

namespace FaceIndex.Benchmarks.Hnsw;

/// <summary>
/// Search and exact scan on a 20 000-vector synthetic set (GENERATOR.md rows, in cache): time and
/// allocation per query (the search must allocate nothing). The 1M figures come from the
/// <c>hnsw</c> verb.
/// </summary>
[MemoryDiagnoser]
public class HnswSearchBenchmarks : IDisposable
{
    private const int Size = 20_000;
    private HnswIndex _index = null!;
    private FaceVector[] _queries = [];
    private Neighbor[] _results = new Neighbor[10];
    private int _next;

    [Params(16, 64)]
    public int Ef { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rows = SyntheticFaces.BaseRows(0, Size);
        var vectors = new FaceVector[Size];
        for (int i = 0; i < Size; i++)
        {
            vectors[i] = Quantizer.QuantizeUnit(rows.AsSpan(i * FaceVector.Dimensions, FaceVector.Dimensions));
        }

        _index = new HnswIndex(new IndexOptions { InitialCapacity = Size });
        _index.AddRange(Enumerable.Range(0, Size).Select(i => (long)i).ToArray(), vectors);
        _queries = vectors[..256];
        _results = new Neighbor[10];
    }

    [GlobalCleanup]
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _index?.Dispose();
        }
    }

    [Benchmark]
    public int Search() => _index.Search(_queries[_next++ & 255], _results, Ef);

    [Benchmark]
    public int SearchExact() => _index.SearchExact(_queries[_next++ & 255], _results);
}
