using System.Diagnostics;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

public sealed partial class FaceStore
{
    private readonly ByteWriter _entryWriter = new(4096);
    private readonly List<WriteOp> _batch = [];
    private long _pendingSequence;
    private int _lastBatchSize;

    private void StartWriter()
    {
        _writerTask = Task.Run(RunWriterAsync);
        _ = Task.Run(RunCheckpointTimerAsync);
    }

    /// <summary>Queues a mutation for the writer; the task completes once its log entry is committed.</summary>
    private Task<T> Submit<T>(Func<FaceStore, T> run, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        var op = new WriteOp<T>(run);
        ObjectDisposedException.ThrowIf(!_requests.Writer.TryWrite(op), this);

        var task = ct.CanBeCanceled ? op.Task.WaitAsync(ct) : op.Task;
        return StoreTelemetry.Source.HasListeners() || StoreTelemetry.WriteDuration.Enabled ? Traced(task) : task;
    }

    /// <summary>The request's wait for its durable commit as a <c>store.commit</c> span and a duration sample.</summary>
    private static async Task<T> Traced<T>(Task<T> task)
    {
        using var activity = StoreTelemetry.Source.StartActivity("store.commit");
        long started = Stopwatch.GetTimestamp();
        try
        {
            return await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
        finally
        {
            StoreTelemetry.WriteDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>Appends an entry to the log and applies it; returns its address (the sequence number). Writer only.</summary>
    private long Append(WalEntry entry)
    {
        WalCodec.Encode(entry, _entryWriter);
        var address = _wal.Enqueue(_entryWriter.WrittenSpan);
        Apply(entry, address);
        RecordForFeed(entry, address, _entryWriter.WrittenSpan);
        _pendingSequence = address;
        return address;
    }

    /// <summary>
    /// The single writer: takes every queued request, resolves and appends each, commits once for all
    /// of them (one flush and sync of the log), then completes them. Checkpoints run between commits,
    /// so a checkpoint never holds a change that the log does not.
    /// </summary>
    private async Task RunWriterAsync()
    {
        var reader = _requests.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var checkpoint = Drain();
            if (_lastBatchSize > 1 && _options.GroupCommitWindow > TimeSpan.Zero && _batch.Count < 4096)
            {
                // Concurrent writers were seen: wait a little so that more of them share this commit.
                await Task.Delay(_options.GroupCommitWindow).ConfigureAwait(false);
                if (Drain() is { } more)
                {
                    checkpoint = checkpoint is null ? more : checkpoint.Merge(more);
                }
            }

            _lastBatchSize = _batch.Count;
            await CommitBatchAsync().ConfigureAwait(false);
            if (checkpoint is not null)
            {
                await RunCheckpointAsync(checkpoint).ConfigureAwait(false);
            }
        }

        if (_writeFault is null)
        {
            await RunCheckpointAsync(new CheckpointOp(force: false)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the queued requests into <see cref="_batch"/>; returns a checkpoint request if one was queued.</summary>
    private CheckpointOp? Drain()
    {
        CheckpointOp? checkpoint = null;
        while (_batch.Count < 65_536 && _requests.Reader.TryRead(out var op))
        {
            if (op is CheckpointOp c)
            {
                checkpoint = checkpoint is null ? c : checkpoint.Merge(c);
                continue;
            }

            if (_writeFault is { } fault)
            {
                op.Fail(Unavailable(fault));
            }
            else if (op.Run(this))
            {
                _batch.Add(op);
            }
        }

        return checkpoint;
    }

    private async Task CommitBatchAsync()
    {
        if (_batch.Count == 0)
        {
            return;
        }

        try
        {
            long started = Stopwatch.GetTimestamp();
            await CommitWithinTimeoutAsync().ConfigureAwait(false);
            StoreTelemetry.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            StoreTelemetry.CommitBatch.Record(_batch.Count);
            Volatile.Write(ref _lastSequence, _pendingSequence);
            PublishCommitted();
            foreach (var op in _batch)
            {
                op.Complete();
            }
        }
        catch (Exception ex)
        {
            _writeFault = ex;
            StoreLog.WriteFailed(_logger, ex);
            foreach (var op in _batch)
            {
                op.Fail(Unavailable(ex));
            }
        }
        finally
        {
            _batch.Clear();
            _uncommitted.Clear();
        }
    }

    /// <summary>
    /// Commits the log, or throws when the commit does not complete within
    /// <see cref="StorageOptions.CommitTimeout"/>: on a full disk FASTER's device write can fail without
    /// ever completing the commit, and the writes would wait for ever. The writes it covers are then
    /// refused (never acknowledged); should the commit complete later they are durable but unacknowledged,
    /// as after a crash.
    /// </summary>
    private async Task CommitWithinTimeoutAsync()
    {
        try
        {
            await _wal.CommitAsync().AsTask().WaitAsync(_options.CommitTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new IOException($"The log commit did not complete within {_options.CommitTimeout.TotalSeconds:0.#} s (Storage:CommitTimeout).", ex);
        }

        // FASTER completes a commit whose record it could not write: the guard knows.
        _guard.ThrowIfFaulted();
    }

    private async Task RunCheckpointAsync(CheckpointOp op)
    {
        if (_writeFault is { } fault)
        {
            op.Fail(Unavailable(fault));
            return;
        }

        var address = _wal.TailAddress;
        if (!op.Force && address == _checkpointAddress && _lastCheckpointTicks != 0)
        {
            op.Complete();
            return;
        }

        var started = Stopwatch.StartNew();
        try
        {
            var cookie = new CheckpointCookie(address, _nextFaceId, _lastSequence, DateTimeOffset.UtcNow);
            // A checkpoint writes far more than a commit: it gets ten commit timeouts.
            if (!await _kv.CheckpointAsync(cookie, CancellationToken.None).AsTask().WaitAsync(_options.CommitTimeout * 10).ConfigureAwait(false))
            {
                // FASTER reports a checkpoint complete even when its pages could not be written (KvStore
                // asks the guard, which refused its metadata, so it is never recovered): say which write failed.
                _guard.ThrowIfFaulted();
                throw new IOException("The key-value checkpoint did not complete.");
            }

            // The log keeps the entries after the previous checkpoint, not only after this one (see _previousCheckpointAddress).
            long truncateTo = _previousCheckpointAddress;
            _previousCheckpointAddress = address;
            _checkpointAddress = address;
            Volatile.Write(ref _lastCheckpointTicks, cookie.TakenAt.UtcTicks);
            _wal.TruncateUntil(TruncationPoint(truncateTo));
            await CommitWithinTimeoutAsync().ConfigureAwait(false);
            StoreLog.CheckpointTaken(_logger, address, started.ElapsedMilliseconds);
            op.Complete();
        }
        catch (Exception ex)
        {
            StoreLog.CheckpointFailed(_logger, ex);
            if (ex is TimeoutException or IOException)
            {
                // A checkpoint or commit still pending on the device: nothing may be written behind it.
                _writeFault = ex;
            }

            op.Fail(Unavailable(ex));
        }
    }

    private async Task RunCheckpointTimerAsync()
    {
        using var timer = new PeriodicTimer(_options.CheckpointInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_shutdown.Token).ConfigureAwait(false))
            {
                _requests.Writer.TryWrite(new CheckpointOp(force: false));
            }
        }
        catch (OperationCanceledException)
        {
            // The store is closing.
        }
    }

    private static FaceIndexException Unavailable(Exception cause) => new(
        FaceIndexError.StorageUnavailable,
        "The store cannot write (disk full, read-only or failing device): " + cause.Message + " Writes are refused until the store is reopened; stored data is intact.",
        cause);
}
