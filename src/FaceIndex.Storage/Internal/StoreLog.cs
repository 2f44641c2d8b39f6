using Microsoft.Extensions.Logging;

namespace FaceIndex.Storage.Internal;

/// <summary>Log messages of the store, with stable event ids (4000–4099).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(4000, LogLevel.Information, "Store opened at {Directory}: {Faces} faces, {Persons} persons, {Collections} collections; checkpoint {CheckpointAddress}, {Replayed} log entries replayed in {ElapsedMs} ms")]
    public static partial void Opened(ILogger logger, string directory, long faces, long persons, long collections, long checkpointAddress, long replayed, long elapsedMs);

    [LoggerMessage(4002, LogLevel.Information, "Checkpoint covering log address {Address} taken in {ElapsedMs} ms")]
    public static partial void CheckpointTaken(ILogger logger, long address, long elapsedMs);

    [LoggerMessage(4003, LogLevel.Error, "Checkpoint failed; the log is kept and replayed at the next start")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(4004, LogLevel.Error, "Writing the log failed; the store refuses writes until restarted")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(4005, LogLevel.Information, "Store closed")]
    public static partial void Closed(ILogger logger);

    [LoggerMessage(4007, LogLevel.Error, "A change-feed subscriber failed; the committed writes stand")]
    public static partial void SubscriberFailed(ILogger logger, Exception exception);
}
