using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using FaceIndex.Engine.Internal;
using FaceIndex.Index;

namespace FaceIndex.Engine;

public sealed partial class FaceDatabase
{
    private const string SnapshotExtension = ".hnsw";
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_rateWindow = TimeSpan.FromMilliseconds(250);
    private int _buildRequested;
    private long _acknowledgedFaces;
    private long _rateSampleTicks = Stopwatch.GetTimestamp();
    private long _rateSampleCount;

    /// <summary>
    /// Writes a snapshot of every graph that changed since its last one (atomically: see
    /// <see cref="HnswIndex.Save(string, long)"/>). Runs periodically and at dispose.
    /// </summary>
    public async Task SnapshotAsync(CancellationToken ct = default)
    {
        await _snapshotGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var index in _indexes.Values)
            {
                ct.ThrowIfCancellationRequested();
                if (!index.IsDirty)
                {
                    continue;
                }

                var started = Stopwatch.StartNew();
                var path = SnapshotPath(index.Name);
                long watermark = _store.GetStats().LastSequence;
                await Task.Run(() => index.Save(path, watermark), CancellationToken.None).ConfigureAwait(false);
                EngineLog.SnapshotWritten(_logger, index.Name, index.IndexedCount, new FileInfo(path).Length, started.ElapsedMilliseconds);
            }
        }
        finally
        {
            _snapshotGate.Release();
        }
    }

    /// <summary>Completes once every acknowledged face is in its collection's graph (for tests, benchmarks and bulk loads).</summary>
    public async Task WaitForIndexingAsync(CancellationToken ct = default)
    {
        while (PendingFaces > 0)
        {
            RequestBuild();
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Loads or rebuilds the index of every collection of the store; at open, before any request.</summary>
    private void LoadIndexes(CancellationToken ct)
    {
        var collections = _store.ListCollections();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var collection in collections)
        {
            ct.ThrowIfCancellationRequested();
            wanted.Add(Path.GetFileName(SnapshotPath(collection.Name)));
            LoadIndex(collection.Name);
        }

        foreach (var file in Directory.EnumerateFiles(_indexDirectory))
        {
            if (!wanted.Contains(Path.GetFileName(file)))
            {
                File.Delete(file);
            }
        }
    }

    private void LoadIndex(string collection)
    {
        var started = Stopwatch.StartNew();
        var live = _store.GetFaceIds(collection);
        var graph = TryLoadSnapshot(collection);
        var index = new CollectionIndex(collection, graph ?? new HnswIndex(_indexOptions));
        _indexes[collection] = index;

        int removed = 0;
        var missing = new List<long>();
        if (graph is null)
        {
            missing.AddRange(live);
        }
        else
        {
            // Both sorted: one pass finds what the snapshot has but the store lost, and the reverse.
            var inGraph = graph.GetIds();
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

        foreach (long faceId in missing)
        {
            if (_store.TryGetFace(faceId, out var face))
            {
                index.Add(faceId, face.Vector);
            }
        }

        EngineLog.IndexLoaded(_logger, collection, graph is not null, index.IndexedCount, missing.Count, removed, started.ElapsedMilliseconds);
    }

    /// <summary>The collection's snapshot when it exists, is intact and was built with the configured parameters; else null (rebuild).</summary>
    private HnswIndex? TryLoadSnapshot(string collection)
    {
        var path = SnapshotPath(collection);
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

    private void DeleteSnapshot(string collection)
    {
        var path = SnapshotPath(collection);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>index/&lt;first 16 bytes of SHA-256 of the name, hex&gt;.hnsw: any collection name makes a safe file name.</summary>
    private string SnapshotPath(string collection)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(collection));
        return Path.Combine(_indexDirectory, Convert.ToHexStringLower(hash.AsSpan(0, 16)) + SnapshotExtension);
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
        if (PendingFaces > 0)
        {
            RequestBuild();
        }
    }

    /// <summary>
    /// Inserts queued faces into the graphs, batch by batch, collection by collection, until none is
    /// left; then sleeps until more arrive. Runs on a thread of its own: graph construction is long
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
    /// (writes first): the rate since the previous call decides, then quarter-second samples while waiting.
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
            long count = Interlocked.Read(ref _acknowledgedFaces);
            double seconds = Math.Max(Stopwatch.GetElapsedTime(_rateSampleTicks, now).TotalSeconds, 1e-3);
            double rate = (count - _rateSampleCount) / seconds;
            _rateSampleTicks = now;
            _rateSampleCount = count;
            if (rate <= _indexing.YieldAboveWritesPerSecond || PendingFaces >= _indexing.MaxPending)
            {
                return;
            }

            if (!yielded)
            {
                yielded = true;
                EngineLog.IndexingYields(_logger, rate, PendingFaces);
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
            YieldToWrites(ct);
            foreach (var index in _indexes.Values)
            {
                int taken = index.BuildStep(_indexing.BuildBatch, _indexing.EffectiveBuildThreads, ct);
                built += taken;
                any |= taken > 0;
            }

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
