using FaceIndex.Core;
using FaceIndex.Testing;
using Xunit.Abstractions;

namespace FaceIndex.Index.Tests;

/// <summary>
/// Stored ⇒ searchable, for the graph: every vector is found by its own code, on GENERATOR.md rows
/// (tight groups of ten photos of one person) built on one thread. Known defect, not covered here:
/// built on two threads, a few members of a group inserted at the same moment can end with no
/// incoming link (0 to 10 of 2,000 rows per run, 0 to 6 of 20,000), because each was pruned from its
/// neighbours' lists as reachable through a group mate that was inserted concurrently and never saw it.
/// Filling pruned lists (keepPrunedConnections) cut it to 0–1 of 2,000 but not to zero; forcing a link
/// from the nearest neighbour made it worse (the displaced link orphaned others). See the closing note.
/// </summary>
public sealed class HnswReachabilityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(2_000, 1)]
    [InlineData(20_000, 1)]
    public void Every_vector_is_its_own_nearest_neighbour_at_ef_64(int count, int threads)
    {
        var vectors = new FaceVector[count];
        var ids = new long[count];
        var x = new float[FaceVector.Dimensions];
        for (int row = 0; row < count; row++)
        {
            SyntheticFaces.BaseRow(row, x);
            vectors[row] = Quantizer.Quantize(x);
            ids[row] = row + 1;
        }

        using var index = new HnswIndex(new IndexOptions { M = 16, EfConstruction = 100, EfSearch = 64 });
        index.AddRange(ids, vectors, threads);

        var results = new Neighbor[1];
        var missed = new List<long>();
        for (int row = 0; row < count; row++)
        {
            Assert.Equal(1, index.Search(vectors[row], results));
            if (results[0].Id != ids[row] && results[0].Score < vectors[row].Dot(vectors[row]))
            {
                missed.Add(ids[row]);
            }
        }

        output.WriteLine($"{count} vectors, {threads} thread(s): {missed.Count} not found by their own code");
        Assert.True(missed.Count == 0, $"{missed.Count} of {count} vectors are not found by their own code: {string.Join(", ", missed.Take(20))}");
    }
}
