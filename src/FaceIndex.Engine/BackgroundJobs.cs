using System.Collections.Concurrent;
using FaceIndex.Clustering;
using FaceIndex.Core;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Engine;

/// <summary>
/// Runs clustering operations: one at a time per collection, in the background, with progress that
/// clients poll (GetOperation) and cancellation. A run waits until the graphs hold every face
/// acknowledged before it started (not those written meanwhile: it ends under a steady write load), builds the kNN graph from it, clusters, suggests for each cluster the enrolled
/// person it most likely is, and stores the result in the store (it survives restarts; the newest
/// run's result is the one listed). Each operation's record is stored too (see
/// <see cref="StoredOperation"/>): <see cref="StartAsync"/> reads the records back once the database is open, reporting a run that a
/// crash cut short as failed, and <see cref="StopAsync"/> stops the runs in progress (reported failed)
/// before the database closes.
/// </summary>
/// <param name="databaseProvider">The database (read when the jobs start, after it has opened).</param>
/// <param name="matchThreshold">The distance under which a cluster's nearest enrolled person is suggested.</param>
/// <param name="logger">Logging.</param>
public sealed partial class ClusteringJobs(Func<FaceDatabase> databaseProvider, Func<float> matchThreshold, ILogger<ClusteringJobs> logger)
{
    private const int KeptFinishedJobs = 256;
    private const string InterruptedByShutdown = "The server shut down while the clustering ran; start it again.";
    private const string InterruptedByCrash = "The server stopped (crash or kill) while the clustering ran; start it again.";
    private readonly ConcurrentDictionary<string, ClusteringJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoredClustering> _results = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ClusteringJob, Task> _running = new();
    private readonly Lock _startGate = new();
    private volatile bool _stopping;

    public bool TryGet(string id, out ClusteringJob job) => _jobs.TryGetValue(id, out job!);

    /// <summary>
    /// Starts a run once its record is durable; null (with the running job) when one is running for
    /// the collection already.
    /// </summary>
    public async Task<(ClusteringJob? Started, ClusteringJob? Running)> StartRunAsync(string collection, ClusteringOptions options, CancellationToken ct)
    {
        ClusteringJob job;
        lock (_startGate)
        {
            if (_stopping)
            {
                throw new FaceIndexException(FaceIndexError.ShuttingDown, "The server is shutting down; start the clustering after it restarts.");
            }

            var running = _jobs.Values.FirstOrDefault(j => j.Collection == collection && !j.IsFinished);
            if (running is not null)
            {
                return (null, running);
            }

            job = new ClusteringJob(Guid.NewGuid().ToString("N"), collection, options);
            _jobs[job.Id] = job;
        }

        try
        {
            await SaveRecordAsync(job, ct).ConfigureAwait(false);
        }
        catch
        {
            _jobs.TryRemove(job.Id, out _);
            throw;
        }

        await ForgetAsync().ConfigureAwait(false);
        _running[job] = Task.Run(() => RunAsync(job), CancellationToken.None);
        return (job, null);
    }

    /// <summary>Reads the operation records back; a run that was in progress when the server last stopped is recorded as failed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var database = databaseProvider();
        foreach (var key in database.ListBlobKeys(StoredOperation.Prefix).ToList())
        {
            if (!database.TryGetBlob(key, out var bytes) || StoredOperation.Deserialize(bytes) is not { } record)
            {
                LogUnreadableRecord(logger, key);
                continue;
            }

            var job = ClusteringJob.Restore(record, InterruptedByCrash);
            _jobs[job.Id] = job;
            if (!record.IsFinished)
            {
                LogInterrupted(logger, job.Id, job.Collection);
                await SaveRecordAsync(job, cancellationToken).ConfigureAwait(false);
            }
        }

        await ForgetAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the runs in progress (each is recorded as failed) and waits for them, before the database closes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_startGate)
        {
            _stopping = true;
        }

        foreach (var job in _running.Keys)
        {
            await job.Cancellation.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_running.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest stored result of a collection, or null when it was never clustered.</summary>
    public StoredClustering? Latest(string collection)
    {
        if (_results.TryGetValue(collection, out var cached))
        {
            return cached;
        }

        var database = databaseProvider();
        if (!database.TryGetBlob(StoredClustering.PointerKey(collection), out var pointer))
        {
            return null;
        }

        var operationId = System.Text.Encoding.UTF8.GetString(pointer);
        using var bytes = new MemoryStream();
        for (int part = 0; database.TryGetBlob(StoredClustering.PartKey(collection, operationId, part), out var chunk); part++)
        {
            bytes.Write(chunk);
        }

        var result = StoredClustering.Deserialize(bytes.ToArray());
        if (result is not null)
        {
            _results[collection] = result;
        }

        return result;
    }

    /// <summary>Removes a collection's results (when the collection is deleted).</summary>
    public async Task DeleteResultsAsync(string collection, CancellationToken ct)
    {
        _results.TryRemove(collection, out _);
        foreach (var key in databaseProvider().ListBlobKeys(StoredClustering.Prefix(collection)))
        {
            await databaseProvider().DeleteBlobAsync(key, ct).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(ClusteringJob job)
    {
        var ct = job.Cancellation.Token;
        try
        {
            var database = databaseProvider();
            job.Report("waiting-for-index", 0);

            // Every face acknowledged before the run started is clustered; faces written meanwhile may be.
            await database.WaitForIndexingAsync(ct).ConfigureAwait(false);
            if (!database.TryGetGraph(job.Collection, out var graph, out _))
            {
                throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{job.Collection}' was deleted.");
            }

            var ids = graph.GetIds();
            var vectors = new FaceVector[ids.Length];
            int kept = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                if (graph.TryGetVector(ids[i], out var vector))
                {
                    ids[kept] = ids[i];
                    vectors[kept++] = vector;
                }
            }

            var faceIds = ids.AsMemory(0, kept);
            var codes = vectors.AsMemory(0, kept);
            var progress = new Progress(job);
            // On a GPU the exact graph costs seconds per million faces: it replaces the approximate one.
            var result = database.ExactScanner is { IsDevice: true } scanner
                ? await FaceClusterer.ClusterAsync(scanner, faceIds, codes, job.Options, progress, ct).ConfigureAwait(false)
                : await FaceClusterer.ClusterAsync(graph, faceIds, codes, job.Options, progress, ct).ConfigureAwait(false);

            job.Report("suggesting", 0.96);
            var suggestions = MergeSuggester.SuggestMerges(result, PersonsOf(job.Collection, faceIds.Span, codes.Span), matchThreshold(), minClusterSize: 1, ct);
            job.Report("storing", 0.98);
            var stored = Store(job, result, suggestions);
            await SaveAsync(job.Collection, stored, ct).ConfigureAwait(false);
            job.Finish(JobState.Succeeded, clusters: result.ClusterCount);
            LogFinished(logger, job.Id, job.Collection, kept, result.ClusterCount, (DateTimeOffset.UtcNow - job.CreatedAt).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && _stopping)
        {
            job.Finish(JobState.Failed, InterruptedByShutdown);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            job.Finish(JobState.Cancelled, "Cancelled by a client.");
        }
        catch (FaceIndexException ex)
        {
            job.Finish(JobState.Failed, ex.Message);
        }
        catch (Exception ex)
        {
            LogFailed(logger, job.Id, job.Collection, ex);
            job.Finish(JobState.Failed, "The clustering failed; the fault is in the server log.");
        }

        try
        {
            await SaveRecordAsync(job, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FaceIndexException or ObjectDisposedException or InvalidOperationException)
        {
            // The record keeps saying "running": the next start reports the run as failed.
            LogRecordNotSaved(logger, job.Id, ex);
        }
        finally
        {
            _running.TryRemove(job, out _);
        }
    }

    /// <summary>Each enrolled person's codes among the clustered faces (persons from the store's memory, not a read per face).</summary>
    private List<PersonVectors> PersonsOf(string collection, ReadOnlySpan<long> faceIds, ReadOnlySpan<FaceVector> vectors)
    {
        var byPerson = new Dictionary<string, List<FaceVector>>(StringComparer.Ordinal);
        for (int i = 0; i < faceIds.Length; i++)
        {
            if (databaseProvider().TryGetFacePerson(collection, faceIds[i], out var personId))
            {
                if (!byPerson.TryGetValue(personId, out var list))
                {
                    byPerson[personId] = list = [];
                }

                list.Add(vectors[i]);
            }
        }

        return [.. byPerson.Select(p => new PersonVectors(p.Key, p.Value.ToArray()))];
    }

    private static StoredClustering Store(ClusteringJob job, ClusteringResult result, IReadOnlyList<MergeSuggestion> suggestions)
    {
        var byCluster = suggestions.ToDictionary(s => s.ClusterId);
        var clusters = new StoredCluster[result.ClusterCount];
        var members = new long[result.FaceCount];
        int start = 0;
        for (int c = 0; c < clusters.Length; c++)
        {
            var summary = result.GetSummary(c);
            var ofCluster = result.GetMembers(c);
            ofCluster.CopyTo(members.AsSpan(start));
            byCluster.TryGetValue(c, out var suggestion);
            clusters[c] = new StoredCluster(c, summary.Size, summary.RepresentativeFaceId, suggestion.PersonId ?? "", suggestion.PersonId is null ? 0f : suggestion.Distance, start);
            start += ofCluster.Length;
        }

        return new StoredClustering(job.Id, job.CreatedAt, clusters, members);
    }

    private async Task SaveAsync(string collection, StoredClustering stored, CancellationToken ct)
    {
        var database = databaseProvider();
        var previous = database.ListBlobKeys(StoredClustering.Prefix(collection)).ToList();
        var bytes = stored.Serialize();
        for (int part = 0, offset = 0; offset < bytes.Length || part == 0; part++, offset += StoredClustering.PartBytes)
        {
            int length = Math.Min(StoredClustering.PartBytes, bytes.Length - offset);
            await database.PutBlobAsync(StoredClustering.PartKey(collection, stored.OperationId, part), bytes.AsMemory(offset, length), ct).ConfigureAwait(false);
        }

        await database.PutBlobAsync(StoredClustering.PointerKey(collection), System.Text.Encoding.UTF8.GetBytes(stored.OperationId), ct).ConfigureAwait(false);
        _results[collection] = stored;
        foreach (var key in previous)
        {
            if (key != StoredClustering.PointerKey(collection) && !key.Contains(stored.OperationId, StringComparison.Ordinal))
            {
                await database.DeleteBlobAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
        }

        if (!database.TryGetCollection(collection, out _))
        {
            await DeleteResultsAsync(collection, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private Task SaveRecordAsync(ClusteringJob job, CancellationToken ct) =>
        databaseProvider().PutBlobAsync(StoredOperation.Key(job.Id), job.Record().Serialize(), ct);

    /// <summary>Drops the oldest finished jobs beyond <see cref="KeptFinishedJobs"/>, with their records.</summary>
    private async Task ForgetAsync()
    {
        var finished = _jobs.Values.Where(j => j.IsFinished).OrderBy(j => j.CreatedAt).ToList();
        for (int i = 0; i < finished.Count - KeptFinishedJobs; i++)
        {
            if (_jobs.TryRemove(finished[i].Id, out _))
            {
                await databaseProvider().DeleteBlobAsync(StoredOperation.Key(finished[i].Id), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Maps the engine's phases onto the operation's 0–1 progress: the kNN graph is most of the work.</summary>
    private sealed class Progress(ClusteringJob job) : IProgress<ClusteringProgress>
    {
        public void Report(ClusteringProgress value)
        {
            var (from, to) = value.Phase switch
            {
                ClusteringPhase.KnnGraph => (0.0, 0.85),
                ClusteringPhase.Clustering => (0.85, 0.93),
                _ => (0.93, 0.96),
            };
            job.Report(value.PhaseName, from + ((to - from) * value.Fraction));
        }
    }

    [LoggerMessage(5070, LogLevel.Information, "Clustering {Operation} of collection {Collection}: {Faces} faces in {Clusters} clusters, {ElapsedMs:F0} ms")]
    private static partial void LogFinished(ILogger logger, string operation, string collection, int faces, int clusters, double elapsedMs);

    [LoggerMessage(5071, LogLevel.Error, "Clustering {Operation} of collection {Collection} failed")]
    private static partial void LogFailed(ILogger logger, string operation, string collection, Exception exception);

    [LoggerMessage(5072, LogLevel.Warning, "Clustering {Operation} of collection {Collection} was running when the server last stopped; it is reported as failed")]
    private static partial void LogInterrupted(ILogger logger, string operation, string collection);

    [LoggerMessage(5073, LogLevel.Warning, "The record of operation {Operation} could not be saved; the next start reports it as failed")]
    private static partial void LogRecordNotSaved(ILogger logger, string operation, Exception exception);

    [LoggerMessage(5074, LogLevel.Warning, "Operation record {Key} is unreadable and was skipped")]
    private static partial void LogUnreadableRecord(ILogger logger, string key);
}
