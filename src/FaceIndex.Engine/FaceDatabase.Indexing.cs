using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FaceIndex.Engine.Internal;
using FaceIndex.Index;

namespace FaceIndex.Engine;

public sealed partial class FaceDatabase
{
    private const string SnapshotExtension = ".hnsw";
    private const string WatermarkFile = "watermark";

    /// <summary>The name under which the indexes keep the store's log from their watermark.</summary>
    private const string FeedConsumer = "index-snapshots";
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_rateWindow = TimeSpan.FromMilliseconds(250);
    private int _buildRequested;
    private long _acknowledgedFaces;
    private long _rateSampleTicks = Stopwatch.GetTimestamp();
    private long _rateSampleCount;
    private double _writeRate;

    /// <summary>Whether the last open replayed the feed from the snapshots' watermark (false: reconciled or rebuilt).</summary>
    internal bool OpenedFromFeed { get; private set; }

    /// <summary>Log entries the last open replayed.</summary>
    internal long ReplayedAtOpen { get; private set; }

    /// <summary>
    /// Writes a snapshot of every graph that changed since its last one (atomically: see
    /// <see cref="HnswIndex.Save(string, long)"/>), then the watermark from which the next start replays
    /// the feed, and lets the store truncate its log up to there. Runs periodically and at dispose.
    /// </summary>
    public async Task SnapshotAsync(CancellationToken ct = default)
    {
        await _snapshotGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // Read before the graphs are saved: each file then holds at least everything before it.
            long watermark = IndexedPosition;
            foreach (var index in _indexes.Values)
            {
                ct.ThrowIfCancellationRequested();
                if (!index.IsDirty)
                {
                    continue;
                }

                var started = Stopwatch.StartNew();
                var path = SnapshotPath(index.Name, index.CreatedTicks);
                await Task.Run(() => index.Save(path, watermark), CancellationToken.None).ConfigureAwait(false);
                if (!_indexes.TryGetValue(index.Name, out var current) || current != index)
                {
                    // The collection was deleted (or re-created) while its graph was being saved.
                    File.Delete(path);
                    continue;
                }

                EngineLog.SnapshotWritten(_logger, index.Name, index.IndexedCount, new FileInfo(path).Length, started.ElapsedMilliseconds);
            }

            WriteWatermark(watermark);
            _store.RetainFeed(FeedConsumer, watermark);
        }
        finally
        {
            _snapshotGate.Release();
        }
    }

    /// <summary>
    /// Loads the index of every collection of the store: each graph from its snapshot, then the feed
    /// replayed from the snapshots' watermark (the log holds it: the store keeps it for this reader).
    /// Where the log does not reach back that far (a data directory of an older version, or a log that
    /// was repaired), each snapshot is reconciled with the store's face ids instead; a collection
    /// without a usable snapshot is rebuilt. At open, before any request.
    /// </summary>
    private void LoadIndexes(CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var collections = _store.ListCollections();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var loaded = new Dictionary<string, CollectionIndex>(StringComparer.Ordinal);
        var fromSnapshot = new HashSet<string>(StringComparer.Ordinal);
        foreach (var collection in collections)
        {
            ct.ThrowIfCancellationRequested();
            long ticks = collection.CreatedAt.UtcTicks;
            wanted.Add(Path.GetFileName(SnapshotPath(collection.Name, ticks)));
            var graph = TryLoadSnapshot(collection.Name, ticks);
            if (graph is not null)
            {
                fromSnapshot.Add(collection.Name);
            }

            loaded[collection.Name] = new CollectionIndex(collection.Name, ticks, graph ?? new HnswIndex(_indexOptions), ExactScanner);
        }

        long? watermark = ReadWatermark();
        long end = _store.FeedEnd;
        bool replay = watermark is { } from && from >= _store.FeedStart && from <= end;
        long replayed = 0;
        if (replay)
        {
            var read = _store.ReadFeed(watermark!.Value);
            foreach (var record in read.Records)
            {
                ApplyChanges(record.Changes, record.Position, loaded, live: false);
                replayed++;
            }

            // Collections the replay created or dropped follow the store's list, which is the end state.
            foreach (var name in loaded.Keys.Where(n => !_store.ContainsCollection(n)).ToList())
            {
                loaded.Remove(name);
            }
        }

        foreach (var (name, index) in loaded)
        {
            _indexes[name] = index;
            bool reconcile = !replay || !fromSnapshot.Contains(name) || _needsReconcile.Contains(name);
            var (queued, removed) = reconcile ? Reconcile(index, fromSnapshot.Contains(name)) : (index.PendingCount, 0);
            EngineLog.IndexLoaded(_logger, name, fromSnapshot.Contains(name), index.IndexedCount, queued, removed, started.ElapsedMilliseconds);
        }

        _needsReconcile.Clear();
        OpenedFromFeed = replay;
        ReplayedAtOpen = replayed;
        Interlocked.Exchange(ref _appliedPosition, end);
        EngineLog.FeedReplayed(_logger, replay, watermark ?? -1, replayed, started.ElapsedMilliseconds);

        foreach (var file in Directory.EnumerateFiles(_indexDirectory))
        {
            var fileName = Path.GetFileName(file);
            if (fileName != WatermarkFile && !wanted.Contains(fileName))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>
    /// Brings an index in line with the store's live face ids by comparing both (without the feed):
    /// removes what the store no longer holds, queues what the index lacks (everything for a new graph).
    /// Returns the faces queued and removed.
    /// </summary>
    private (int Queued, int Removed) Reconcile(CollectionIndex index, bool hasSnapshot)
    {
        var live = _store.GetFaceIds(index.Name);
        int removed = 0;
        var missing = new List<long>();
        if (!hasSnapshot)
        {
            missing.AddRange(live);
        }
        else
        {
            // Both sorted: one pass finds what the snapshot has but the store lost, and the reverse.
            var inGraph = index.Graph.GetIds();
            Array.Sort(inGraph);
            int i = 0;
            int j = 0;
            while (i < inGraph.Length || j < live.Length)
            {
                if (j >= live.Length || (i < inGraph.Length && inGraph[i] < live[j]))
                {
                    index.Remove(inGraph[i++]);
                    removed++;
                }
                else if (i >= inGraph.Length || live[j] < inGraph[i])
                {
                    missing.Add(live[j++]);
                }
                else
                {
                    i++;
                    j++;
                }
            }
        }

        int queued = 0;
        foreach (long faceId in missing)
        {
            if (_store.TryGetFace(faceId, out var face) && index.Add(faceId, face.Vector, face.Sequence))
            {
                queued++;
            }
        }

        return (queued, removed);
    }

    /// <summary>The collection's snapshot when it exists, is intact and was built with the configured parameters; else null (rebuild).</summary>
    private HnswIndex? TryLoadSnapshot(string collection, long createdTicks)
    {
        var path = SnapshotPath(collection, createdTicks);
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        if (!HnswIndex.TryLoad(stream, out var graph, out _, out var fault, out var message))
        {
            EngineLog.SnapshotRefused(_logger, collection, fault.ToString(), message);
            return null;
        }

        var built = graph.Options;
        if (built.M != _indexOptions.M || built.EfConstruction != _indexOptions.EfConstruction)
        {
            EngineLog.SnapshotStale(_logger, collection, built.M, built.EfConstruction, _indexOptions.M, _indexOptions.EfConstruction);
            graph.Dispose();
            return null;
        }

        return graph;
    }

    /// <summary>Deletes the snapshot files of every incarnation of a deleted collection (applier, on a collection delete).</summary>
    private void DeleteSnapshotsOf(string collection)
    {
        foreach (var file in Directory.EnumerateFiles(_indexDirectory, SnapshotPrefix(collection) + "*" + SnapshotExtension))
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// index/&lt;first 16 bytes of SHA-256 of the name, hex&gt;-&lt;creation ticks&gt;.hnsw: any collection
    /// name makes a safe file name, and a collection deleted and created again never loads the old graph.
    /// </summary>
    private string SnapshotPath(string collection, long createdTicks) =>
        Path.Combine(_indexDirectory, SnapshotPrefix(collection) + createdTicks.ToString(CultureInfo.InvariantCulture) + SnapshotExtension);

    private static string SnapshotPrefix(string collection) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collection)).AsSpan(0, 16)) + "-";

    /// <summary>The feed position the snapshots were written at (index/watermark), or null when there is none or it is unreadable.</summary>
    private long? ReadWatermark()
    {
        var path = Path.Combine(_indexDirectory, WatermarkFile);
        return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long position) ? position : null;
    }

    /// <summary>Writes index/watermark atomically (temporary file, flushed, renamed over the old one).</summary>
    private void WriteWatermark(long position)
    {
        var path = Path.Combine(_indexDirectory, WatermarkFile);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(position.ToString(CultureInfo.InvariantCulture)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private void RequestBuild()
    {
        if (Interlocked.Exchange(ref _buildRequested, 1) == 0)
        {
            _buildSignal.Release();
        }
    }

    private void StartBackgroundWork()
    {
        _builder = Task.Factory.StartNew(RunBuilder, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _snapshotter = Task.Run(RunSnapshotterAsync);
        if (PendingFaces > 0 || _indexes.Values.Any(index => index.Graph.NeedsRepair))
        {
            RequestBuild();
        }
    }

    /// <summary>
    /// Inserts queued faces into the graphs, batch by batch, collection by collection, and repairs the
    /// graphs after deletes in bounded steps between batches, until nothing is left; then sleeps until
    /// more arrive. Runs on a thread of its own: graph construction is long
    /// CPU work that must not hold a thread-pool thread, or the requests it shares the pool with wait
    /// (on a two-core machine the pool starts with two threads).
    /// </summary>
    private void RunBuilder()
    {
        var ct = _stopping.Token;
        try
        {
            while (true)
            {
                _buildSignal.Wait(ct);
                Volatile.Write(ref _buildRequested, 0);
                try
                {
                    DrainQueues(ct);
                    ReleaseIndexWaiters();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A fault of one pass must not stop indexing for good: the faces stay searchable
                    // in the tail, and the next pass retries.
                    EngineLog.IndexingFailed(_logger, ex);
                    ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                    RequestBuild();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Closing: what is still queued is re-queued from the store at the next open.
        }
    }

    /// <summary>
    /// Waits while faces are being acknowledged faster than <see cref="IndexingOptions.YieldAboveWritesPerSecond"/>
    /// (writes first), unless someone waits for the graphs (<see cref="WaitForIndexedAsync"/>) or the tails
    /// hold <see cref="IndexingOptions.MaxPending"/> faces. The rate is measured over windows of at least a
    /// quarter of a second: two calls a millisecond apart say nothing about the write rate.
    /// </summary>
    private void YieldToWrites(CancellationToken ct)
    {
        if (_indexing.YieldAboveWritesPerSecond == 0)
        {
            return;
        }

        bool yielded = false;
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            double seconds = Stopwatch.GetElapsedTime(_rateSampleTicks, now).TotalSeconds;
            if (seconds >= s_rateWindow.TotalSeconds)
            {
                long count = Interlocked.Read(ref _acknowledgedFaces);
                _writeRate = (count - _rateSampleCount) / seconds;
                _rateSampleTicks = now;
                _rateSampleCount = count;
            }

            bool waited;
            lock (_waitGate)
            {
                waited = _indexWaiters.Count > 0;
            }

            if (_writeRate <= _indexing.YieldAboveWritesPerSecond || waited || PendingFaces >= _indexing.MaxPending)
            {
                return;
            }

            if (!yielded)
            {
                yielded = true;
                EngineLog.IndexingYields(_logger, _writeRate, PendingFaces);
            }

            if (ct.WaitHandle.WaitOne(s_rateWindow))
            {
                ct.ThrowIfCancellationRequested();
            }
        }
    }

    private void DrainQueues(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        long built = 0;
        bool any = true;
        while (any)
        {
            any = false;
            bool repairing = false;
            YieldToWrites(ct);
            foreach (var index in _indexes.Values)
            {
                int taken = index.BuildStep(_indexing.BuildBatch, _indexing.EffectiveBuildThreads, ct);
                built += taken;
                any |= taken > 0;

                // Graph repair after deletes is the builder's work, between batches, never a request's.
                repairing |= index.RepairStep(ct);
            }

            ReleaseIndexWaiters();
            if (repairing && !any)
            {
                // Only repair is left, perhaps waiting for searches that may still read the freed slots to end.
                ct.WaitHandle.WaitOne(1);
            }

            any |= repairing;

            if (clock.Elapsed - lastReport >= s_progressInterval)
            {
                lastReport = clock.Elapsed;
                EngineLog.IndexingProgress(_logger, built, PendingFaces, built / clock.Elapsed.TotalSeconds);
            }
        }

        if (lastReport > TimeSpan.Zero)
        {
            EngineLog.IndexingDone(_logger, built, clock.ElapsedMilliseconds);
        }
    }

    private async Task RunSnapshotterAsync()
    {
        var ct = _stopping.Token;
        using var timer = new PeriodicTimer(_indexing.SnapshotInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await SnapshotAsync(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    EngineLog.SnapshotFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Closing: DisposeAsync writes the last snapshots.
        }
    }
}
