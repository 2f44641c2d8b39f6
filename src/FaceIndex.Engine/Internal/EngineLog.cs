using Microsoft.Extensions.Logging;

namespace FaceIndex.Engine.Internal;

/// <summary>Log messages of the database (5000–5049), with stable event ids. No face data, images or vectors.</summary>
internal static partial class EngineLog
{
    [LoggerMessage(5000, LogLevel.Information, "Database open: {Faces} faces in {Collections} collections, {Pending} queued for the graphs, in {ElapsedMs} ms")]
    public static partial void DatabaseOpened(ILogger logger, long faces, int collections, long pending, long elapsedMs);

    [LoggerMessage(5001, LogLevel.Information, "Index of collection {Collection}: snapshot used {FromSnapshot}, {Indexed} faces in the graph, {Queued} queued, {Removed} removed, in {ElapsedMs} ms")]
    public static partial void IndexLoaded(ILogger logger, string collection, bool fromSnapshot, int indexed, int queued, int removed, long elapsedMs);

    [LoggerMessage(5002, LogLevel.Warning, "Index snapshot of collection {Collection} refused ({Fault}: {Message}); the graph is rebuilt from the store")]
    public static partial void SnapshotRefused(ILogger logger, string collection, string fault, string message);

    [LoggerMessage(5003, LogLevel.Warning, "Index snapshot of collection {Collection} was built with M={M}, efConstruction={EfConstruction}; configured M={ConfiguredM}, efConstruction={ConfiguredEfConstruction}: rebuilding")]
    public static partial void SnapshotStale(ILogger logger, string collection, int m, int efConstruction, int configuredM, int configuredEfConstruction);

    [LoggerMessage(5004, LogLevel.Information, "Index snapshot of collection {Collection} written: {Faces} faces, {Bytes} bytes, in {ElapsedMs} ms")]
    public static partial void SnapshotWritten(ILogger logger, string collection, int faces, long bytes, long elapsedMs);

    [LoggerMessage(5005, LogLevel.Error, "Writing an index snapshot failed; the previous one is kept and the next start replays from the store")]
    public static partial void SnapshotFailed(ILogger logger, Exception exception);

    [LoggerMessage(5006, LogLevel.Information, "Indexing: {Built} faces inserted into the graphs so far, {Pending} still queued ({Rate:F0} faces/s)")]
    public static partial void IndexingProgress(ILogger logger, long built, long pending, double rate);

    [LoggerMessage(5007, LogLevel.Information, "Indexing caught up: {Built} faces inserted in {ElapsedMs} ms")]
    public static partial void IndexingDone(ILogger logger, long built, long elapsedMs);

    [LoggerMessage(5008, LogLevel.Error, "Inserting faces into a graph failed; they stay searchable by exact scan and the insert is retried")]
    public static partial void IndexingFailed(ILogger logger, Exception exception);

    [LoggerMessage(5010, LogLevel.Information, "Indexing pauses for a bulk load ({Rate:F0} faces/s acknowledged, {Pending} faces searched exactly meanwhile)")]
    public static partial void IndexingYields(ILogger logger, double rate, long pending);

    [LoggerMessage(5011, LogLevel.Information, "Indexes opened: feed replayed {Replayed} (from the snapshots' watermark {Watermark}: {Entries} log entries) in {ElapsedMs} ms")]
    public static partial void FeedReplayed(ILogger logger, bool replayed, long watermark, long entries, long elapsedMs);

    [LoggerMessage(5009, LogLevel.Information, "Database closed")]
    public static partial void DatabaseClosed(ILogger logger);
}
