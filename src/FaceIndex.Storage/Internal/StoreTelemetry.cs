using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// The store's traces and metrics (OpenTelemetry reads them through System.Diagnostics): a
/// <c>store.commit</c> span around each request's wait for its durable group commit, and histograms of
/// that wait and of the writer's log commits (with the batch size).
/// </summary>
internal static class StoreTelemetry
{
    public const string Name = "FaceIndex.Storage";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter s_meter = new(Name);

    /// <summary>How long a write waited from submission to its durable commit (queue + group commit).</summary>
    public static readonly Histogram<double> WriteDuration = s_meter.CreateHistogram<double>("faceindex.store.write.duration", "s", "Time from a store write's submission to its durable commit.");

    /// <summary>One flush + fsync of the write-ahead log shared by a batch of writes.</summary>
    public static readonly Histogram<double> CommitDuration = s_meter.CreateHistogram<double>("faceindex.store.commit.duration", "s", "Duration of one write-ahead log commit (flush and sync) shared by a batch.");

    public static readonly Histogram<int> CommitBatch = s_meter.CreateHistogram<int>("faceindex.store.commit.batch", "{write}", "Writes covered by one log commit.");
}
