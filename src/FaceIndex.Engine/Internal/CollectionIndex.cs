using System.Buffers;
using System.Collections.Concurrent;
using FaceIndex.Core;
using FaceIndex.Index;

namespace FaceIndex.Engine.Internal;

/// <summary>
/// The search structures of one collection: an HNSW graph, and the tail of acknowledged faces
/// that the background builder has not inserted yet, held in an exact index and searched by a
/// scan, so that every acknowledged face is searchable at once (read-your-writes).
/// </summary>
/// <remarks>
/// <para>
/// A face moves from the tail to the graph by "add to the graph, then remove from the tail".
/// A search scans the tail first and walks the graph second, so a face that moves meanwhile is
/// found in one or the other (or both: results are merged by id).
/// </para>
/// <para>
/// A delete removes the face from both. The builder re-checks after each insert: when the face
/// has left the tail by a delete while it was being inserted, the builder removes it from the
/// graph again. Face ids are never reused, so no other face can be confused with it.
/// </para>
/// </remarks>
internal sealed class CollectionIndex : IDisposable
{
    private readonly ExactIndex _tail = new();
    private readonly ConcurrentQueue<long> _tailOrder = new();
    private readonly HnswIndex _graph;
    private long _version;
    private long _savedVersion;

    /// <summary>Wraps a graph (new, or loaded from a snapshot: either way it counts as saved).</summary>
    public CollectionIndex(string name, HnswIndex graph)
    {
        Name = name;
        _graph = graph;
    }

    /// <summary>The collection's name.</summary>
    public string Name { get; }

    /// <summary>Faces in the graph.</summary>
    public int IndexedCount => _graph.Count;

    /// <summary>Acknowledged faces not yet in the graph.</summary>
    public int PendingCount => _tail.Count;

    /// <summary>True while the graph differs from its last snapshot.</summary>
    public bool IsDirty => Interlocked.Read(ref _version) != Interlocked.Read(ref _savedVersion);

    /// <summary>The graph (for snapshots, statistics and clustering).</summary>
    public HnswIndex Graph => _graph;

    /// <summary>Makes an acknowledged face searchable and queues it for the graph.</summary>
    public void Add(long faceId, in FaceVector vector)
    {
        _tail.Add(faceId, vector);
        _tailOrder.Enqueue(faceId);
    }

    /// <summary>Removes a face from the tail and the graph; false when neither held it.</summary>
    public bool Remove(long faceId)
    {
        bool fromTail = _tail.Remove(faceId);
        bool fromGraph = _graph.Remove(faceId);
        if (fromGraph)
        {
            Interlocked.Increment(ref _version);
        }

        return fromTail || fromGraph;
    }

    /// <summary>True when the face is in the tail or the graph.</summary>
    public bool Contains(long faceId) => _tail.Contains(faceId) || _graph.Contains(faceId);

    /// <summary>
    /// The up to <c>results.Length</c> nearest faces, best first. The graph is scanned exactly when
    /// it holds fewer than <paramref name="exactBelow"/> faces, walked with breadth <paramref name="ef"/> otherwise.
    /// </summary>
    public int Search(in FaceVector query, Span<Neighbor> results, int ef, int exactBelow)
    {
        int k = results.Length;
        if (k == 0)
        {
            return 0;
        }

        // Tail first, graph second: see the remarks.
        Neighbor[]? rented = k <= 64 ? null : ArrayPool<Neighbor>.Shared.Rent(k);
        Span<Neighbor> pending = rented is null ? stackalloc Neighbor[k] : rented.AsSpan(0, k);
        try
        {
            int pendingCount = _tail.Count > 0 ? _tail.Search(query, pending) : 0;
            int graphCount = _graph.Count < exactBelow ? _graph.SearchExact(query, results) : _graph.Search(query, results, ef);
            return pendingCount == 0 ? graphCount : TopK.MergeInto(results, graphCount, pending[..pendingCount]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<Neighbor>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Inserts up to <paramref name="batch"/> queued faces into the graph on <paramref name="threads"/>
    /// threads; returns how many were taken from the queue (0 when it was empty).
    /// </summary>
    public int BuildStep(int batch, int threads, CancellationToken ct)
    {
        var ids = new List<long>(Math.Min(batch, _tailOrder.Count + 1));
        var vectors = new List<FaceVector>(ids.Capacity);
        int taken = 0;
        while (taken < batch && _tailOrder.TryDequeue(out long id))
        {
            taken++;
            if (_tail.TryGetVector(id, out var vector))
            {
                ids.Add(id);
                vectors.Add(vector);
            }
        }

        if (ids.Count == 0)
        {
            return taken;
        }

        // Each face leaves the tail as soon as the graph holds it, so that the two never count a face
        // twice for longer than one insert (Stats: indexed + pending = faces).
        _graph.AddRange(
            ids.ToArray(),
            vectors.ToArray(),
            id =>
            {
                if (!_tail.Remove(id))
                {
                    // Deleted while it was being inserted.
                    _graph.Remove(id);
                }
            },
            threads,
            ct);

        Interlocked.Increment(ref _version);
        return taken;
    }

    /// <summary>Writes the graph's snapshot to <paramref name="path"/> (atomically) and marks it clean.</summary>
    public void Save(string path, long watermark)
    {
        long version = Interlocked.Read(ref _version);
        _graph.Save(path, watermark);
        Interlocked.Exchange(ref _savedVersion, version);
    }

    public void Dispose()
    {
        _tail.Dispose();
        _graph.Dispose();
    }
}
