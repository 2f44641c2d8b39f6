using System.Collections.Concurrent;
using FaceIndex.Clustering;
using FaceIndex.Core;
using Microsoft.Extensions.Logging;

namespace FaceIndex.Server.Internal;

/// <summary>The states of a server-side operation.</summary>
internal enum JobState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>One clustering run of a collection, observable while it runs.</summary>
internal sealed class ClusteringJob(string id, string collection, ClusteringOptions options)
{
    private readonly Lock _gate = new();

    public string Id { get; } = id;

    public string Collection { get; } = collection;

    public ClusteringOptions Options { get; } = options;

    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;

    public CancellationTokenSource Cancellation { get; } = new();

    public JobState State { get; private set; } = JobState.Pending;

    public string Phase { get; private set; } = "pending";

    public double Progress { get; private set; }

    public string Error { get; private set; } = "";

    public DateTimeOffset? FinishedAt { get; private set; }

    public long ClusterCount { get; private set; }

    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>A consistent copy of the observable fields.</summary>
    public (JobState State, string Phase, double Progress, string Error, DateTimeOffset? FinishedAt, long ClusterCount) Snapshot()
    {
        lock (_gate)
        {
            return (State, Phase, Progress, Error, FinishedAt, ClusterCount);
        }
    }

    public void Report(string phase, double progress)
    {
        lock (_gate)
        {
            if (!IsFinished)
            {
                State = JobState.Running;
                Phase = phase;
                Progress = Math.Max(Progress, Math.Clamp(progress, 0, 1));
            }
        }
    }

    public void Finish(JobState state, string error = "", long clusters = 0)
    {
        lock (_gate)
        {
            State = state;
            Error = error;
            ClusterCount = clusters;
            Progress = state == JobState.Succeeded ? 1 : Progress;
            Phase = state == JobState.Succeeded ? "done" : Phase;
            FinishedAt = DateTimeOffset.UtcNow;
        }
    }
}

/// <summary>
/// Runs clustering operations: one at a time per collection, in the background, with progress that
/// clients poll (GetOperation) and cancellation. A run waits until the collection's graph holds every
/// acknowledged face, builds the kNN graph from it, clusters, suggests for each cluster the enrolled
/// person it most likely is, and stores the result in the store (it survives restarts; the newest
/// run's result is the one listed).
/// </summary>
internal sealed partial class ClusteringJobs(ServerRuntime runtime, ILogger<ClusteringJobs> logger)
{
    private const int KeptFinishedJobs = 256;
    private readonly ConcurrentDictionary<string, ClusteringJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoredClustering> _results = new(StringComparer.Ordinal);
    private readonly Lock _startGate = new();

    public bool TryGet(string id, out ClusteringJob job) => _jobs.TryGetValue(id, out job!);

    /// <summary>Starts a run; null (with the running job) when one is running for the collection already.</summary>
    public ClusteringJob? Start(string collection, ClusteringOptions options, out ClusteringJob? running)
    {
        lock (_startGate)
        {
            running = _jobs.Values.FirstOrDefault(j => j.Collection == collection && !j.IsFinished);
            if (running is not null)
            {
                return null;
            }

            var job = new ClusteringJob(Guid.NewGuid().ToString("N"), collection, options);
            _jobs[job.Id] = job;
            Forget();
            _ = Task.Run(() => RunAsync(job));
            return job;
        }
    }

    /// <summary>The newest stored result of a collection, or null when it was never clustered.</summary>
    public StoredClustering? Latest(string collection)
    {
        if (_results.TryGetValue(collection, out var cached))
        {
            return cached;
        }

        var database = runtime.Database;
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
        foreach (var key in runtime.Database.ListBlobKeys(StoredClustering.Prefix(collection)))
        {
            await runtime.Database.DeleteBlobAsync(key, ct).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(ClusteringJob job)
    {
        var ct = job.Cancellation.Token;
        try
        {
            var database = runtime.Database;
            job.Report("waiting-for-index", 0);
            Index.HnswIndex? graph;
            while (true)
            {
                if (!database.TryGetGraph(job.Collection, out graph, out int pending))
                {
                    throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{job.Collection}' was deleted.");
                }

                if (pending == 0)
                {
                    break;
                }

                await Task.Delay(100, ct).ConfigureAwait(false);
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
            var result = await FaceClusterer.ClusterAsync(graph, faceIds, codes, job.Options, progress, ct).ConfigureAwait(false);

            job.Report("suggesting", 0.96);
            var suggestions = MergeSuggester.SuggestMerges(result, PersonsOf(faceIds.Span, codes.Span), runtime.MatchThreshold, minClusterSize: 1, ct);
            job.Report("storing", 0.98);
            var stored = Store(job, result, suggestions);
            await SaveAsync(job.Collection, stored, ct).ConfigureAwait(false);
            job.Finish(JobState.Succeeded, clusters: result.ClusterCount);
            LogFinished(logger, job.Id, job.Collection, kept, result.ClusterCount, (DateTimeOffset.UtcNow - job.CreatedAt).TotalMilliseconds);
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
    }

    /// <summary>Each enrolled person's codes among the clustered faces.</summary>
    private List<PersonVectors> PersonsOf(ReadOnlySpan<long> faceIds, ReadOnlySpan<FaceVector> vectors)
    {
        var byPerson = new Dictionary<string, List<FaceVector>>(StringComparer.Ordinal);
        for (int i = 0; i < faceIds.Length; i++)
        {
            if (runtime.Database.TryGetFace(faceIds[i], out var face))
            {
                if (!byPerson.TryGetValue(face.PersonId, out var list))
                {
                    byPerson[face.PersonId] = list = [];
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
        var database = runtime.Database;
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

    /// <summary>Drops the oldest finished jobs beyond <see cref="KeptFinishedJobs"/>.</summary>
    private void Forget()
    {
        var finished = _jobs.Values.Where(j => j.IsFinished).OrderBy(j => j.CreatedAt).ToList();
        for (int i = 0; i < finished.Count - KeptFinishedJobs; i++)
        {
            _jobs.TryRemove(finished[i].Id, out _);
        }
    }

    /// <summary>Maps the engine's phases onto the operation's 0–1 progress: the kNN graph is most of the work.</summary>
    private sealed class Progress(ClusteringJob job) : IProgress<ClusteringProgress>
    {
        public void Report(ClusteringProgress value)
        {
            var (name, from, to) = value.Phase switch
            {
                ClusteringPhase.KnnGraph => ("knn-graph", 0.0, 0.85),
                ClusteringPhase.Clustering => ("clustering", 0.85, 0.93),
                _ => ("finishing", 0.93, 0.96),
            };
            job.Report(name, from + ((to - from) * value.Fraction));
        }
    }

    [LoggerMessage(5070, LogLevel.Information, "Clustering {Operation} of collection {Collection}: {Faces} faces in {Clusters} clusters, {ElapsedMs:F0} ms")]
    private static partial void LogFinished(ILogger logger, string operation, string collection, int faces, int clusters, double elapsedMs);

    [LoggerMessage(5071, LogLevel.Error, "Clustering {Operation} of collection {Collection} failed")]
    private static partial void LogFailed(ILogger logger, string operation, string collection, Exception exception);
}
