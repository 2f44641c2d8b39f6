using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Clustering.Tests;

/// <summary>
/// Exact nearest neighbours by scanning every vector: the test stand-in for the HNSW index and the
/// reference the kNN graph is compared with. Searches may run concurrently once adds are done.
/// </summary>
internal sealed class BruteForceIndex : IVectorIndex
{
    private readonly List<long> _ids = [];
    private readonly List<FaceVector> _vectors = [];
    private readonly HashSet<long> _removed = [];
    private int _searches;

    public int Count => _ids.Count - _removed.Count;

    /// <summary>Number of searches served so far.</summary>
    public int Searches => Volatile.Read(ref _searches);

    public static BruteForceIndex Of(ReadOnlySpan<long> ids, ReadOnlySpan<FaceVector> vectors)
    {
        var index = new BruteForceIndex();
        for (int i = 0; i < ids.Length; i++)
        {
            index.Add(ids[i], vectors[i]);
        }

        return index;
    }

    public void Add(long id, in FaceVector vector)
    {
        if (_ids.Contains(id))
        {
            throw new ArgumentException($"Id {id} is present already.", nameof(id));
        }

        _ids.Add(id);
        _vectors.Add(vector);
    }

    public bool Remove(long id) => _ids.Contains(id) && _removed.Add(id);

    public bool Contains(long id) => _ids.Contains(id) && !_removed.Contains(id);

    public bool TryGetVector(long id, out FaceVector vector)
    {
        int at = _ids.IndexOf(id);
        if (at < 0 || _removed.Contains(id))
        {
            vector = default;
            return false;
        }

        vector = _vectors[at];
        return true;
    }

    public void Dispose()
    {
    }

    public int Search(in FaceVector query, Span<Neighbor> results, int ef = 0)
    {
        Interlocked.Increment(ref _searches);

        // Insertion into a sorted top list: best score first, ties to the smaller id.
        int count = 0;
        for (int i = 0; i < _ids.Count; i++)
        {
            if (_removed.Contains(_ids[i]))
            {
                continue;
            }

            var candidate = new Neighbor(_ids[i], query.Dot(_vectors[i]));
            int at = count;
            while (at > 0 && Before(candidate, results[at - 1]))
            {
                at--;
            }

            if (at >= results.Length)
            {
                continue;
            }

            int last = Math.Min(count, results.Length - 1);
            for (int j = last; j > at; j--)
            {
                results[j] = results[j - 1];
            }

            results[at] = candidate;
            count = Math.Min(count + 1, results.Length);
        }

        return count;
    }

    private static bool Before(Neighbor a, Neighbor b) => a.Score > b.Score || (a.Score == b.Score && a.Id < b.Id);
}
