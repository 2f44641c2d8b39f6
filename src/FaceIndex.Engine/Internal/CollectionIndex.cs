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
/// A delete removes the face from both (in the graph, a tombstone: the builder repairs the graph
/// later, in bounded steps; see <see cref="RepairStep"/>). The builder re-checks after each insert: when the face
/// has left the tail by a delete while it was being inserted, the builder removes it from the
/// graph again. Face ids are never reused, so no other face can be confused with it.
/// </para>
/// </remarks>
internal sealed class CollectionIndex : IDisposable
{
    /// <summary>Slots one repair step rewrites at most: a few milliseconds during which adds and removes wait.</summary>
    public const int RepairStepNodes = 512;

    private const long NoPosition = long.MaxValue;
    private readonly ExactIndex _tail;
    private readonly ConcurrentQueue<(long FaceId, long Position)> _tailOrder = new();
    private readonly HnswIndex _graph;
    private long _version;
    private long _savedVersion;
    private long _inFlight = NoPosition;
    private List<(long FaceId, long Position)> _retry = [];

    /// <summary>
    /// Wraps a graph (new, or loaded from a snapshot: either way it counts as saved); a large tail is
    /// scanned on <paramref name="scanner"/> when one is given (a GPU).
    /// </summary>
    /// <param name="name">The collection's name.</param>
    /// <param name="createdTicks">The creation time of the collection's incarnation (a name can be deleted and created again).</param>
    /// <param name="graph">The graph.</param>
    /// <param name="scanner">Where large tail scans run; null for the calling threads.</param>
    public CollectionIndex(string name, long createdTicks, HnswIndex graph, IExactScanner? scanner = null)
    {
        Name = name;
        CreatedTicks = createdTicks;
        _graph = graph;
        _tail = new ExactIndex(1024, scanner);
    }

    /// <summary>The collection's name.</summary>
    public string Name { get; }

    /// <summary>The creation time of the collection this index belongs to.</summary>
    public long CreatedTicks { get; }

    /// <summary>
    /// The feed position of the oldest face not yet in the graph (queued, or being inserted), or
    /// <see cref="long.MaxValue"/> when the graph holds every applied face.
    /// </summary>
    public long OldestUnbuilt
    {
        get
        {
            // In-flight first: the builder marks a batch before it takes it off the queue.
            long inFlight = Interlocked.Read(ref _inFlight);
            return _tailOrder.TryPeek(out var head) ? Math.Min(inFlight, head.Position) : inFlight;
        }
    }

    /// <summary>Faces in the graph.</summary>
    public int IndexedCount => _graph.Count;

    /// <summary>Acknowledged faces not yet in the graph.</summary>
    public int PendingCount => _tail.Count;

    /// <summary>True while the graph differs from its last snapshot.</summary>
    public bool IsDirty => Interlocked.Read(ref _version) != Interlocked.Read(ref _savedVersion);

    /// <summary>The graph (for snapshots, statistics and clustering).</summary>
    public HnswIndex Graph => _graph;

    /// <summary>
    /// Makes a committed face searchable and queues it for the graph, with the feed position of its
    /// entry; false (nothing done) when the face is searchable already (a replay after a snapshot).
    /// </summary>
    public bool Add(long faceId, in FaceVector vector, long position)
    {
        if (Contains(faceId))
        {
            return false;
        }

        _tail.Add(faceId, vector);
        _tailOrder.Enqueue((faceId, position));
        return true;
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

    /// <summary>The face's code from the tail or the graph; false when neither holds it.</summary>
    public bool TryGetVector(long faceId, out FaceVector vector) => _tail.TryGetVector(faceId, out vector) || _graph.TryGetVector(faceId, out vector);

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
    /// threads, in feed order; returns how many were taken from the queue (0 when it was empty).
    /// </summary>
    public int BuildStep(int batch, int threads, CancellationToken ct)
    {
        List<(long FaceId, long Position)> items;
        if (_retry.Count > 0)
        {
            // A batch that failed or was cancelled half-way: its position is still marked in flight.
            items = _retry;
            _retry = [];
        }
        else
        {
            if (!_tailOrder.TryPeek(out var first))
            {
                return 0;
            }

            // Marked before the faces leave the queue, so that OldestUnbuilt never skips them.
            Interlocked.Exchange(ref _inFlight, first.Position);
            items = new List<(long, long)>(Math.Min(batch, _tailOrder.Count + 1));
            while (items.Count < batch && _tailOrder.TryDequeue(out var queued))
            {
                items.Add(queued);
            }
        }

        try
        {
            Build(items, threads, ct);
        }
        catch
        {
            // The faces not yet in the graph stay marked (the snapshot watermark stays before them) and
            // are retried first by the next step.
            _retry = items.FindAll(item => _tail.Contains(item.FaceId));
            throw;
        }

        Interlocked.Exchange(ref _inFlight, NoPosition);
        return items.Count;
    }

    private void Build(List<(long FaceId, long Position)> items, int threads, CancellationToken ct)
    {
        var ids = new List<long>(items.Count);
        var vectors = new List<FaceVector>(items.Count);
        foreach (var (faceId, _) in items)
        {
            if (!_tail.TryGetVector(faceId, out var vector))
            {
                continue;
            }

            if (_graph.Contains(faceId))
            {
                // Inserted by a step that was cancelled before it took the face out of the tail.
                _tail.Remove(faceId);
                continue;
            }

            ids.Add(faceId);
            vectors.Add(vector);
        }

        if (ids.Count == 0)
        {
            return;
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
                else
                {
                    Interlocked.Increment(ref _version);
                }
            },
            threads,
            ct);

        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// One bounded step of graph repair (at most <see cref="RepairStepNodes"/> slots under the graph's
    /// exclusive lock) when the graph asks for one; for the builder, never for a request. True when
    /// more repair work remains.
    /// </summary>
    public bool RepairStep(CancellationToken ct)
    {
        if (!_graph.NeedsRepair)
        {
            return false;
        }

        bool more = _graph.RepairStep(RepairStepNodes, ct);
        Interlocked.Increment(ref _version);
        return more;
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
