using FaceIndex.Core;

namespace FaceIndex.Index;

/// <summary>
/// A nearest-neighbour index over <see cref="FaceVector"/>s keyed by a 64-bit face id.
/// Implemented by the HNSW graph and by the exact (brute-force) scan; the clustering engine and
/// the server program against this contract. Disposing releases the index's locks. Scores are raw int8 dot products (higher is
/// closer); <see cref="Similarity"/> converts them to cosine and squared L2.
/// </summary>
public interface IVectorIndex : IDisposable
{
    /// <summary>Number of live (not deleted) vectors.</summary>
    int Count { get; }

    /// <summary>Adds a vector. Safe to call concurrently with searches and other adds.</summary>
    /// <exception cref="ArgumentException">The id is present already.</exception>
    void Add(long id, in FaceVector vector);

    /// <summary>Marks a vector deleted: it is never returned again. False when the id is absent.</summary>
    bool Remove(long id);

    /// <summary>True when the id is present and not deleted.</summary>
    bool Contains(long id);

    /// <summary>Copies the stored vector of a live id; false when the id is absent or deleted.</summary>
    bool TryGetVector(long id, out FaceVector vector);

    /// <summary>
    /// The up to <c>results.Length</c> nearest live vectors to <paramref name="query"/>, best first.
    /// <paramref name="ef"/> is the search breadth (0 = the index's default; ignored by exact search).
    /// </summary>
    /// <returns>The number of results written.</returns>
    int Search(in FaceVector query, Span<Neighbor> results, int ef = 0);
}

/// <summary>One search result: the face id and its raw int8 dot product with the query.</summary>
/// <param name="Id">The face id.</param>
/// <param name="Score">The raw int8 dot product (higher is closer).</param>
public readonly record struct Neighbor(long Id, int Score)
{
    /// <summary>Squared L2 distance between the unit vectors (see <see cref="Similarity"/>).</summary>
    public float Distance => Similarity.DistanceFromDot(Score);
}
