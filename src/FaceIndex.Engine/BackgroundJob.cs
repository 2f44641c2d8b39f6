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

/// <summary>One clustering run of a collection, observable while it runs.</summary>
public sealed class ClusteringJob
{
    private readonly Lock _gate = new();

    public ClusteringJob(string id, string collection, ClusteringOptions options)
    {
        Id = id;
        Collection = collection;
        Options = options;
        CreatedAt = DateTimeOffset.UtcNow;
    }

    /// <summary>A finished operation read back from its record (from before a restart).</summary>
    private ClusteringJob(in StoredOperation record)
    {
        Id = record.Id;
        Collection = record.Collection;
        Options = new ClusteringOptions { Algorithm = record.Algorithm, Threshold = record.Threshold, K = record.K, Seed = record.Seed };
        CreatedAt = record.CreatedAt;
        State = record.State;
        Phase = record.Phase;
        Progress = record.Progress;
        Error = record.Error;
        FinishedAt = record.FinishedAt;
        ClusterCount = record.ClusterCount;
    }

    public string Id { get; }

    public string Collection { get; }

    public ClusteringOptions Options { get; }

    public DateTimeOffset CreatedAt { get; }

    public CancellationTokenSource Cancellation { get; } = new();

    public JobState State { get; private set; } = JobState.Pending;

    public string Phase { get; private set; } = "pending";

    public double Progress { get; private set; }

    public string Error { get; private set; } = "";

    public DateTimeOffset? FinishedAt { get; private set; }

    public long ClusterCount { get; private set; }

    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    /// <summary>The job of a record; a record of a run that never finished becomes a failed job with <paramref name="interruptedError"/>.</summary>
    internal static ClusteringJob Restore(in StoredOperation record, string interruptedError)
    {
        var job = new ClusteringJob(record);
        if (!job.IsFinished)
        {
            job.Finish(JobState.Failed, interruptedError);
        }

        return job;
    }

    /// <summary>A consistent copy of the observable fields.</summary>
    public (JobState State, string Phase, double Progress, string Error, DateTimeOffset? FinishedAt, long ClusterCount) Snapshot()
    {
        lock (_gate)
        {
            return (State, Phase, Progress, Error, FinishedAt, ClusterCount);
        }
    }

    /// <summary>The record that persists the job as it is now.</summary>
    internal StoredOperation Record()
    {
        var (state, phase, progress, error, finishedAt, clusters) = Snapshot();
        return new StoredOperation(Id, Collection, Options.Algorithm, Options.Threshold, Options.K, Options.Seed, state, phase, progress, error, CreatedAt, finishedAt, clusters);
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
            FinishedAt ??= DateTimeOffset.UtcNow;
        }
    }
}
