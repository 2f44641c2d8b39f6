using FaceIndex.Clustering;

namespace FaceIndex.Engine;

/// <summary>The states of a server-side operation.</summary>
public enum JobState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>What a background operation does.</summary>
public enum JobKind
{
    /// <summary>Clusters a collection's faces (<see cref="BackgroundJob.Options"/>).</summary>
    Clustering,

    /// <summary>Copies a collection into a new one of another model, its codes mapped (<see cref="BackgroundJob.Migration"/>).</summary>
    Migration,
}

/// <summary>What a migration creates: the new collection and its model.</summary>
/// <param name="TargetCollection">The collection the faces are copied into (created by the run).</param>
/// <param name="TargetModel">Its model.</param>
public sealed record MigrationSpec(string TargetCollection, string TargetModel);

/// <summary>One background operation on a collection (a clustering run or a migration), observable while it runs.</summary>
public sealed class BackgroundJob
{
    private readonly Lock _gate = new();

    /// <summary>A clustering run.</summary>
    public BackgroundJob(string id, string collection, ClusteringOptions options)
    {
        Id = id;
        Kind = JobKind.Clustering;
        Collection = collection;
        Options = options;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A migration of <paramref name="collection"/>.</summary>
    public BackgroundJob(string id, string collection, MigrationSpec migration)
    {
        Id = id;
        Kind = JobKind.Migration;
        Collection = collection;
        Options = new ClusteringOptions();
        Migration = migration;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A finished operation read back from its record (from before a restart).</summary>
    private BackgroundJob(in StoredOperation record)
    {
        Id = record.Id;
        Kind = record.Kind;
        Migration = record.Kind == JobKind.Migration ? new MigrationSpec(record.TargetCollection, record.TargetModel) : null;
        Collection = record.Collection;
        Options = new ClusteringOptions { Algorithm = record.Algorithm, Threshold = record.Threshold, K = record.K, Seed = record.Seed };
        CreatedAt = record.CreatedAt;
        State = record.State;
        Phase = record.Phase;
        Progress = record.Progress;
        Error = record.Error;
        FinishedAt = record.FinishedAt;
        Count = record.Count;
    }

    public string Id { get; }

    public JobKind Kind { get; }

    /// <summary>The collection the operation reads (a migration's source).</summary>
    public string Collection { get; }

    /// <summary>A clustering run's options (the defaults for a migration).</summary>
    public ClusteringOptions Options { get; }

    /// <summary>A migration's target; null for a clustering run.</summary>
    public MigrationSpec? Migration { get; }

    public DateTimeOffset CreatedAt { get; }

    public CancellationTokenSource Cancellation { get; } = new();

    public JobState State { get; private set; } = JobState.Pending;

    public string Phase { get; private set; } = "pending";

    public double Progress { get; private set; }

    public string Error { get; private set; } = "";

    public DateTimeOffset? FinishedAt { get; private set; }

    /// <summary>Clusters found (clustering) or faces copied so far (migration).</summary>
    public long Count { get; private set; }

    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>The job of a record; a record of a run that never finished becomes a failed job with <paramref name="interruptedError"/>.</summary>
    internal static BackgroundJob Restore(in StoredOperation record, string interruptedError)
    {
        var job = new BackgroundJob(record);
        if (!job.IsFinished)
        {
            job.Finish(JobState.Failed, interruptedError);
        }

        return job;
    }

    /// <summary>A consistent copy of the observable fields.</summary>
    public (JobState State, string Phase, double Progress, string Error, DateTimeOffset? FinishedAt, long Count) Snapshot()
    {
        lock (_gate)
        {
            return (State, Phase, Progress, Error, FinishedAt, Count);
        }
    }

    /// <summary>The record that persists the job as it is now.</summary>
    internal StoredOperation Record()
    {
        var (state, phase, progress, error, finishedAt, clusters) = Snapshot();
        return new StoredOperation(Id, Collection, Options.Algorithm, Options.Threshold, Options.K, Options.Seed, state, phase, progress, error, CreatedAt, finishedAt, clusters)
        {
            Kind = Kind,
            TargetCollection = Migration?.TargetCollection ?? "",
            TargetModel = Migration?.TargetModel ?? "",
        };
    }

    public void Report(string phase, double progress, long? count = null)
    {
        lock (_gate)
        {
            if (!IsFinished)
            {
                State = JobState.Running;
                Phase = phase;
                Progress = Math.Max(Progress, Math.Clamp(progress, 0, 1));
                Count = count ?? Count;
            }
        }
    }

    public void Finish(JobState state, string error = "", long? count = null)
    {
        lock (_gate)
        {
            State = state;
            Error = error;
            Count = count ?? Count;
            Progress = state == JobState.Succeeded ? 1 : Progress;
            Phase = state == JobState.Succeeded ? "done" : Phase;
            FinishedAt ??= DateTimeOffset.UtcNow;
        }
    }
}
