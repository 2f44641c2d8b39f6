using FASTER.core;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// The write-ahead log's commit records, kept so that the newest readable one is always a record whose
/// every byte was written: FASTER's own pruning (removeOutdated) deletes the previous record right after
/// writing a new one, even when that write failed, which on a full disk could leave no readable record
/// at all. Here a record is written only while the <see cref="DeviceGuard"/> has seen no failure, and
/// older records are deleted only after a newer one was written whole: the latest two are kept.
/// </summary>
internal sealed class GuardedCommits(string directory, DeviceGuard guard) : ILogCommitManager
{
    private readonly DeviceLogCommitCheckpointManager _inner = new(
        guard.Wrap(new LocalStorageNamedDeviceFactory()), new DefaultCheckpointNamingScheme(directory), removeOutdated: false);

    private readonly Queue<long> _kept = new();

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        if (guard.Fault is not null)
        {
            return;
        }

        _inner.Commit(beginAddress, untilAddress, commitMetadata, commitNum, forceWriteMetadata);
        if (guard.Fault is not null)
        {
            return;
        }

        _kept.Enqueue(commitNum);
        while (_kept.Count > 2)
        {
            _inner.RemoveCommit(_kept.Dequeue());
        }
    }

    public byte[] GetCommitMetadata(long commitNum) => _inner.GetCommitMetadata(commitNum);

    public IEnumerable<long> ListCommits() => _inner.ListCommits();

    public void RemoveCommit(long commitNum) => _inner.RemoveCommit(commitNum);

    public void RemoveAllCommits() => _inner.RemoveAllCommits();

    /// <summary>Keeps the record recovered from and the one before it; later (unreadable) ones go.</summary>
    public void OnRecovery(long commitNum)
    {
        foreach (var number in ListCommits().OrderBy(n => n).ToList())
        {
            if (number > commitNum)
            {
                _inner.RemoveCommit(number);
            }
            else
            {
                _kept.Enqueue(number);
            }
        }

        while (_kept.Count > 2)
        {
            _inner.RemoveCommit(_kept.Dequeue());
        }
    }

    public void Dispose() => _inner.Dispose();
}
