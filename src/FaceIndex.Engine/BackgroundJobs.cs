using System.Collections.Concurrent;
using FaceIndex.Clustering;
using FaceIndex.Core;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Engine;

/// <summary>
/// Runs background operations, clustering runs and migrations: one at a time per collection, in the
/// background, with progress that clients poll (GetOperation) and cancellation. A migration copies a
/// collection into a new one of another model (<see cref="StartMigrationAsync"/>). A clustering run waits until the graphs hold every face
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
public sealed partial class BackgroundJobs(Func<FaceDatabase> databaseProvider, Func<float> matchThreshold, ILogger<BackgroundJobs> logger)
{
    private const int KeptFinishedJobs = 256;
    private const string InterruptedByShutdown = "The server shut down while the clustering ran; start it again.";
    private const string InterruptedByCrash = "The server stopped (crash or kill) while the clustering ran; start it again.";
    private readonly ConcurrentDictionary<string, BackgroundJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoredClustering> _results = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<BackgroundJob, Task> _running = new();
    private readonly Lock _startGate = new();
    private volatile bool _stopping;

    public bool TryGet(string id, out BackgroundJob job) => _jobs.TryGetValue(id, out job!);

    /// <summary>
    /// Starts a clustering run once its record is durable; null (with the running operation) when one
    /// is running on the collection already.
    /// </summary>
    public async Task<(BackgroundJob? Started, BackgroundJob? Running)> StartRunAsync(string collection, ClusteringOptions options, CancellationToken ct)
    {
        var job = Admit(collection, id => new BackgroundJob(id, collection, options), out var running);
        if (job is null)
        {
            return (null, running);
        }

        await LaunchAsync(job, RunClusteringAsync, ct).ConfigureAwait(false);
        return (job, null);
    }

    /// <summary>
    /// Starts a migration: creates the target collection with the target model (durably, before this
    /// returns), then copies the source's persons and faces into it in the background, each face's codes
    /// given by <paramref name="recode"/>; <paramref name="copied"/> hears each durable batch (the server
    /// copies thumbnails). A migration that fails or is cancelled deletes the target it created.
    /// </summary>
    /// <exception cref="FaceIndexException">NotFound: no source. AlreadyExists: the target exists. FailedPrecondition-like ModelMismatch is the caller's to check. ShuttingDown.</exception>
    public async Task<BackgroundJob> StartMigrationAsync(
        string collection,
        MigrationSpec migration,
        Func<FaceIndex.Storage.FaceRecord, FaceCodes> recode,
        Func<IReadOnlyList<CopiedFace>, CancellationToken, Task>? copied,
        CancellationToken ct)
    {
        var job = Admit(collection, id => new BackgroundJob(id, collection, migration), out var running)
            ?? throw new FaceIndexException(FaceIndexError.AlreadyExists, $"Operation {running!.Id} ({KindName(running.Kind)}) is running on collection '{collection}'; wait for it or cancel it.");
        var database = databaseProvider();
        try
        {
            if (!await database.CreateCollectionAsync(migration.TargetCollection, migration.TargetModel, ct).ConfigureAwait(false))
            {
                throw new FaceIndexException(FaceIndexError.AlreadyExists, $"Collection '{migration.TargetCollection}' exists already; a migration creates its target. Name a new collection, or delete that one first.");
            }
        }
        catch
        {
            _jobs.TryRemove(job.Id, out _);
            throw;
        }

        await LaunchAsync(job, (j, token) => MigrateAsync(j, recode, copied, token), ct).ConfigureAwait(false);
        return job;
    }

    /// <summary>A new job for the collection, registered; null (with the running one) when an operation runs on it.</summary>
    private BackgroundJob? Admit(string collection, Func<string, BackgroundJob> create, out BackgroundJob? running)
    {
        lock (_startGate)
        {
            if (_stopping)
            {
                throw new FaceIndexException(FaceIndexError.ShuttingDown, "The server is shutting down; start the operation after it restarts.");
            }

            running = _jobs.Values.FirstOrDefault(j => j.Collection == collection && !j.IsFinished);
            if (running is not null)
            {
                return null;
            }

            var job = create(Guid.NewGuid().ToString("N"));
            _jobs[job.Id] = job;
            return job;
        }
    }

    /// <summary>Saves the job's record durably, then runs it in the background.</summary>
    private async Task LaunchAsync(BackgroundJob job, Func<BackgroundJob, CancellationToken, Task> work, CancellationToken ct)
    {
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
        _running[job] = Task.Run(() => RunAsync(job, work), CancellationToken.None);
    }

    private static string KindName(JobKind kind) => kind == JobKind.Migration ? "migration" : "clustering";

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

            var job = BackgroundJob.Restore(record, record.Kind == JobKind.Migration
                ? $"The server stopped (crash or kill) while the migration ran; collection '{record.TargetCollection}' holds part of the faces: delete it, then start the migration again."
                : InterruptedByCrash);
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

    private async Task RunAsync(BackgroundJob job, Func<BackgroundJob, CancellationToken, Task> work)
    {
        var ct = job.Cancellation.Token;
        try
        {
            await work(job, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && _stopping)
        {
            job.Finish(JobState.Failed, await UndoAsync(job, job.Kind == JobKind.Migration ? "The server shut down while the migration ran; start it again." : InterruptedByShutdown).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            job.Finish(JobState.Cancelled, await UndoAsync(job, "Cancelled by a client.").ConfigureAwait(false));
        }
        catch (FaceIndexException ex)
        {
            job.Finish(JobState.Failed, await UndoAsync(job, ex.Message).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            LogFailed(logger, KindName(job.Kind), job.Id, job.Collection, ex);
            job.Finish(JobState.Failed, await UndoAsync(job, $"The {KindName(job.Kind)} failed; the fault is in the server log.").ConfigureAwait(false));
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

    /// <summary>A migration that did not finish deletes the target it created; the message says what became of it.</summary>
    private async Task<string> UndoAsync(BackgroundJob job, string why)
    {
        if (job.Migration is not { } migration)
        {
            return why;
        }

        try
        {
            await databaseProvider().DeleteCollectionAsync(migration.TargetCollection, CancellationToken.None).ConfigureAwait(false);
            return $"{why} The partly copied collection '{migration.TargetCollection}' was deleted.";
        }
        catch (Exception ex) when (ex is FaceIndexException or ObjectDisposedException or InvalidOperationException)
        {
            return $"{why} The partly copied collection '{migration.TargetCollection}' could not be deleted ({ex.Message}); delete it before starting again.";
        }
    }

    private async Task MigrateAsync(BackgroundJob job, Func<FaceIndex.Storage.FaceRecord, FaceCodes> recode, Func<IReadOnlyList<CopiedFace>, CancellationToken, Task>? copied, CancellationToken ct)
    {
        var migration = job.Migration!;
        var started = DateTimeOffset.UtcNow;
        job.Report("copying", 0, 0);
        long faces = await databaseProvider().CopyCollectionAsync(
            job.Collection,
            migration.TargetCollection,
            recode,
            copied,
            (done, total) => job.Report("copying", total == 0 ? 0.99 : 0.99 * done / total, done),
            ct).ConfigureAwait(false);
        job.Finish(JobState.Succeeded, count: faces);
        LogMigrated(logger, job.Id, job.Collection, migration.TargetCollection, migration.TargetModel, faces, (DateTimeOffset.UtcNow - started).TotalMilliseconds);
    }

    private async Task RunClusteringAsync(BackgroundJob job, CancellationToken ct)
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
        job.Finish(JobState.Succeeded, count: result.ClusterCount);
        LogFinished(logger, job.Id, job.Collection, kept, result.ClusterCount, (DateTimeOffset.UtcNow - job.CreatedAt).TotalMilliseconds);
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

    private static StoredClustering Store(BackgroundJob job, ClusteringResult result, IReadOnlyList<MergeSuggestion> suggestions)
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

    private Task SaveRecordAsync(BackgroundJob job, CancellationToken ct) =>
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
    private sealed class Progress(BackgroundJob job) : IProgress<ClusteringProgress>
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

    [LoggerMessage(5071, LogLevel.Error, "The {Kind} {Operation} of collection {Collection} failed")]
    private static partial void LogFailed(ILogger logger, string kind, string operation, string collection, Exception exception);

    [LoggerMessage(5075, LogLevel.Information, "Migration {Operation}: collection {Collection} copied into {Target} ({Model}): {Faces} faces, {ElapsedMs:F0} ms")]
    private static partial void LogMigrated(ILogger logger, string operation, string collection, string target, string model, long faces, double elapsedMs);

    [LoggerMessage(5072, LogLevel.Warning, "Operation {Operation} of collection {Collection} was running when the server last stopped; it is reported as failed")]
    private static partial void LogInterrupted(ILogger logger, string operation, string collection);

    [LoggerMessage(5073, LogLevel.Warning, "The record of operation {Operation} could not be saved; the next start reports it as failed")]
    private static partial void LogRecordNotSaved(ILogger logger, string operation, Exception exception);

    [LoggerMessage(5074, LogLevel.Warning, "Operation record {Key} is unreadable and was skipped")]
    private static partial void LogUnreadableRecord(ILogger logger, string key);
}
