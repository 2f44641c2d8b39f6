using FASTER.core;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// The key-value store's checkpoint files, with the pruning done here instead of by FASTER: FASTER's
/// removeOutdated deletes the previous checkpoint as soon as a new one's metadata is written, whether or
/// not the new one's pages reached the disk. Here nothing is deleted by FASTER; the store calls
/// <see cref="Prune"/> after a checkpoint that the <see cref="DeviceGuard"/> saw written whole, which keeps
/// that checkpoint and the previous whole one. Writes go through guarded devices, so a checkpoint taken
/// after a failed write has no metadata and is never recovered.
/// </summary>
internal sealed class GuardedCheckpoints(string directory, DeviceGuard guard) : ICheckpointManager
{
    private readonly DeviceLogCommitCheckpointManager _inner = new(
        guard.Wrap(new LocalStorageNamedDeviceFactory()), new DefaultCheckpointNamingScheme(directory), removeOutdated: false);

    /// <summary>The last checkpoint known whole: the one recovered at open, then each pruned-for.</summary>
    private Guid _previous;

    /// <summary>Deletes every checkpoint but <paramref name="latest"/> (written whole) and the whole one before it.</summary>
    public void Prune(Guid latest)
    {
        var keep = new HashSet<Guid> { latest, _previous };
        foreach (var token in GetLogCheckpointTokens().Concat(GetIndexCheckpointTokens()).Distinct().ToList())
        {
            if (!keep.Contains(token))
            {
                _inner.Purge(token);
            }
        }

        _previous = latest;
    }

    public void OnRecovery(Guid indexToken, Guid logToken)
    {
        _inner.OnRecovery(indexToken, logToken);
        _previous = logToken;
    }

    public void InitializeIndexCheckpoint(Guid indexToken) => _inner.InitializeIndexCheckpoint(indexToken);

    public void InitializeLogCheckpoint(Guid logToken) => _inner.InitializeLogCheckpoint(logToken);

    public void CommitIndexCheckpoint(Guid indexToken, byte[] commitMetadata) => _inner.CommitIndexCheckpoint(indexToken, commitMetadata);

    public void CommitLogCheckpoint(Guid logToken, byte[] commitMetadata) => _inner.CommitLogCheckpoint(logToken, commitMetadata);

    public void CheckpointVersionShift(long oldVersion, long newVersion) => _inner.CheckpointVersionShift(oldVersion, newVersion);

    public void CommitLogIncrementalCheckpoint(Guid logToken, long version, byte[] commitMetadata, DeltaLog deltaLog) =>
        _inner.CommitLogIncrementalCheckpoint(logToken, version, commitMetadata, deltaLog);

    public byte[] GetIndexCheckpointMetadata(Guid indexToken) => _inner.GetIndexCheckpointMetadata(indexToken);

    public byte[] GetLogCheckpointMetadata(Guid logToken, DeltaLog deltaLog, bool scanDelta, long recoverTo) =>
        _inner.GetLogCheckpointMetadata(logToken, deltaLog, scanDelta, recoverTo);

    public IEnumerable<Guid> GetIndexCheckpointTokens() => _inner.GetIndexCheckpointTokens();

    public IEnumerable<Guid> GetLogCheckpointTokens() => _inner.GetLogCheckpointTokens();

    public IDevice GetIndexDevice(Guid indexToken) => _inner.GetIndexDevice(indexToken);

    public IDevice GetSnapshotLogDevice(Guid token) => _inner.GetSnapshotLogDevice(token);

    public IDevice GetSnapshotObjectLogDevice(Guid token) => _inner.GetSnapshotObjectLogDevice(token);

    public IDevice GetDeltaLogDevice(Guid token) => _inner.GetDeltaLogDevice(token);

    public void Purge(Guid token) => _inner.Purge(token);

    public void PurgeAll() => _inner.PurgeAll();

    public void Dispose() => _inner.Dispose();
}
