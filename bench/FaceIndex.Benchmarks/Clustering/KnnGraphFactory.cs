using System.Diagnostics;
using FaceIndex.Clustering;
using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Benchmarks.Clustering;

/// <summary>Builds the benchmark's kNN graph: by an exact all-pairs scan, or through an HNSW index.</summary>
internal static class KnnGraphFactory
{
    public static KnnGraph Build(ClusterBenchArgs bench, long[] ids, FaceVector[] vectors, ClusteringOptions options, Stopwatch clock)
    {
        if (bench.Graph == "exact")
        {
            var exact = KnnGraphBuilder.BuildExact(ids, vectors, options);
            ClusterCommand.Phase("kNN graph (exact)", clock);
            return exact;
        }

        using var index = new HnswIndex(new IndexOptions { M = bench.M, EfConstruction = bench.EfConstruction, InitialCapacity = ids.Length });
        index.AddRange(ids, vectors, options.MaxDegreeOfParallelism);
        ClusterCommand.Phase($"HNSW build (M={bench.M}, efC={bench.EfConstruction})", clock);
        var graph = KnnGraphBuilder.Build(index, ids, vectors, options);
        ClusterCommand.Phase($"kNN graph (ef={(options.Ef == 0 ? index.Options.EfSearch : options.Ef)})", clock);
        return graph;
    }
}
