using FaceIndex.Engine.Internal;
using FaceIndex.Index;
using FaceIndex.Storage;

namespace FaceIndex.Engine;

/// <summary>
/// The applier: the one place where the indexes change. It follows the store's change feed, in log
/// order, on the store's writer after each group commit and before the writes complete, so an
/// acknowledged face is always searchable and a deleted one never found, whatever happened to the
/// request that wrote it. It does only the cheap step (a face into the exactly-scanned tail, a
/// tombstone, an index created or dropped) and queues the rest for the graph builder.
/// </summary>
public sealed partial class FaceDatabase
{
    private long _appliedPosition;
    private readonly Lock _waitGate = new();
    private readonly List<(long Position, TaskCompletionSource Done)> _indexWaiters = [];
    private readonly HashSet<string> _needsReconcile = new(StringComparer.Ordinal);

    /// <summary>The feed position up to which the indexes have applied the store's committed entries.</summary>
    public long AppliedPosition => Interlocked.Read(ref _appliedPosition);

    /// <summary>
    /// The feed position up to which the graphs hold every applied face (the rest wait in the tails):
    /// a snapshot taken now needs the feed replayed from here, no further back.
    /// </summary>
    public long IndexedPosition
    {
        get
        {
            // Applied first: a face applied after this read has a position at or past it.
            long position = AppliedPosition;
            foreach (var index in _indexes.Values)
            {
                position = Math.Min(position, index.OldestUnbuilt);
            }

            return position;
        }
    }

    /// <summary>The feed handler: applies committed entries in log order (store writer thread).</summary>
    private void OnCommitted(IReadOnlyList<ChangeRecord> records)
    {
        int added = 0;
        foreach (var record in records)
        {
            added += ApplyChanges(record.Changes, record.Position, _indexes, live: true);
        }

        Interlocked.Add(ref _acknowledgedFaces, added);
        Interlocked.Exchange(ref _appliedPosition, records[^1].NextPosition);
        if (added > 0)
        {
            RequestBuild();
        }
    }

    /// <summary>
    /// Applies one entry's changes to <paramref name="indexes"/>; returns the faces added. Live (from the
    /// feed) or at open (replaying the log after the snapshots' watermark): both are idempotent, so an
    /// entry a snapshot already reflects changes nothing.
    /// </summary>
    private int ApplyChanges(IReadOnlyList<StoreChange> changes, long position, IDictionary<string, CollectionIndex> indexes, bool live)
    {
        int added = 0;
        foreach (var change in changes)
        {
            switch (change)
            {
                case CollectionCreated c:
                    if (!indexes.TryGetValue(c.Name, out var existing) || existing.CreatedTicks != c.CreatedTicks)
                    {
                        indexes[c.Name] = new CollectionIndex(c.Name, c.CreatedTicks, new HnswIndex(_indexOptions), ExactScanner);
                    }

                    break;
                case CollectionDeleted c:
                    // Searches in flight may still read the removed index: it is left to the collector.
                    if (indexes.Remove(c.Name, out _) && live)
                    {
                        DeleteSnapshotsOf(c.Name);
                    }

                    break;
                case FacesAdded f when indexes.TryGetValue(f.Collection, out var index):
                    foreach (var (faceId, vector) in f.Faces)
                    {
                        added += index.Add(faceId, vector, position) ? 1 : 0;
                    }

                    break;
                case FacesRemoved f when indexes.TryGetValue(f.Collection, out var index):
                    foreach (long faceId in f.FaceIds)
                    {
                        index.Remove(faceId);
                    }

                    // A remove only tombstones: past the threshold, the builder repairs the graph (never this thread).
                    if (live && index.Graph.NeedsRepair)
                    {
                        RequestBuild();
                    }

                    break;
                case PersonRemovedUnresolved p:
                    // An entry of an older store: which faces went is known only to the store.
                    lock (_needsReconcile)
                    {
                        _needsReconcile.Add(p.Collection);
                    }

                    break;
                default:
                    break;
            }
        }

        return added;
    }

    /// <summary>
    /// Completes once the graphs hold every face that was applied when it was called (for clustering,
    /// tests, benchmarks and bulk loads). Faces written meanwhile do not hold it up: under a steady
    /// write load it still ends.
    /// </summary>
    public Task WaitForIndexingAsync(CancellationToken ct = default) => WaitForIndexedAsync(AppliedPosition, ct);

    /// <summary>Completes once <see cref="IndexedPosition"/> has reached <paramref name="position"/>.</summary>
    public Task WaitForIndexedAsync(long position, CancellationToken ct = default)
    {
        if (IndexedPosition >= position)
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitGate)
        {
            _indexWaiters.Add((position, done));
        }

        RequestBuild();
        ReleaseIndexWaiters();
        return done.Task.WaitAsync(ct);
    }

    /// <summary>Completes the waiters whose position the graphs have reached (builder, after each step).</summary>
    private void ReleaseIndexWaiters()
    {
        long indexed = IndexedPosition;
        lock (_waitGate)
        {
            for (int i = _indexWaiters.Count - 1; i >= 0; i--)
            {
                if (_indexWaiters[i].Position <= indexed)
                {
                    _indexWaiters[i].Done.TrySetResult();
                    _indexWaiters.RemoveAt(i);
                }
            }
        }
    }
}
