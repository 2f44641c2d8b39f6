using System.Collections.Concurrent;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;

namespace FaceIndex.Storage;

/// <summary>
/// The change feed: after each group commit the writer hands the committed entries, in log order, to
/// every subscriber before the writes it covers complete. An index that applies the feed is therefore
/// never behind an acknowledged write, whatever happens to the request that made it (a cancelled or
/// timed-out call changes nothing about what is applied). Positions are log addresses; the log keeps
/// every entry from the lowest position a consumer still needs (<see cref="RetainFeed"/>), so a reader
/// can replay from its own watermark after a restart, or a replica catch up.
/// </summary>
public sealed partial class FaceStore
{
    private const string ReplicationPositionKey = "replication/source-position";
    private readonly List<ChangeRecord> _uncommitted = [];
    private readonly Lock _subscriberGate = new();
    private readonly ConcurrentDictionary<string, long> _retention = new(StringComparer.Ordinal);
    private Action<IReadOnlyList<ChangeRecord>>[] _subscribers = [];
    private long _committedTail;

    /// <summary>The first position the log still holds (older entries were truncated behind a checkpoint).</summary>
    public long FeedStart => _wal.BeginAddress;

    /// <summary>The position after the last committed entry: where the feed continues.</summary>
    public long FeedEnd => Volatile.Read(ref _committedTail);

    /// <summary>The position of the last committed entry, or 0 when there is none yet.</summary>
    public long LastPosition => Volatile.Read(ref _lastSequence);

    /// <summary>
    /// The primary's position that the entries applied by <see cref="AppendReplicatedAsync"/> reached
    /// (the next position to ask it for), durable with them; 0 for a store that never replicated.
    /// </summary>
    public long ReplicatedPosition =>
        TryGetBlob(ReplicationPositionKey, out var value) && value.Length == sizeof(long) ? BitConverter.ToInt64(value) : 0;

    /// <summary>
    /// Calls <paramref name="onCommitted"/> on the writer after each group commit with the committed
    /// entries in log order, before the writes they cover complete. Keep it cheap (apply to memory,
    /// enqueue): every write waits for it. An exception from it is logged as an error and does not
    /// fail the writes. Dispose the result to stop.
    /// </summary>
    public IDisposable SubscribeToFeed(Action<IReadOnlyList<ChangeRecord>> onCommitted)
    {
        ArgumentNullException.ThrowIfNull(onCommitted);
        lock (_subscriberGate)
        {
            _subscribers = [.. _subscribers, onCommitted];
        }

        return new Subscription(this, onCommitted);
    }

    /// <summary>
    /// Keeps the log from <paramref name="position"/> on for <paramref name="consumer"/> (for example an
    /// index's snapshot watermark, or a replica's position): checkpoints truncate the log only behind
    /// the lowest retained position. <see cref="ReleaseFeed"/> lets it go.
    /// </summary>
    public void RetainFeed(string consumer, long position)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumer);
        _retention[consumer] = position;
    }

    /// <summary>Stops keeping the log for <paramref name="consumer"/>.</summary>
    public void ReleaseFeed(string consumer) => _retention.TryRemove(consumer, out _);

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> committed entries from <paramref name="from"/> (a
    /// position the feed gave: an entry's position or a <see cref="ChangeRecord.NextPosition"/>).
    /// <see cref="FeedRead.Truncated"/> says when the log no longer reaches back that far.
    /// </summary>
    /// <exception cref="FaceIndexException">StorageCorrupted: a committed entry cannot be read.</exception>
    public FeedRead ReadFeed(long from, int maxRecords = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecords);
        long end = FeedEnd;
        if (from < _wal.BeginAddress)
        {
            return new FeedRead([], from, Truncated: true);
        }

        var records = new List<ChangeRecord>();
        long next = Math.Max(from, _wal.BeginAddress);
        if (next >= end)
        {
            return new FeedRead(records, next, Truncated: false);
        }

        using var iterator = _wal.Scan(next, end);
        while (records.Count < maxRecords && iterator.GetNext(out byte[] bytes, out int length, out long address, out long nextAddress))
        {
            var entry = bytes.AsMemory(0, length);
            records.Add(new ChangeRecord(address, nextAddress, entry, WalCodec.ChangesOf(DecodeCommitted(entry.Span, address))));
            next = nextAddress;
        }

        return new FeedRead(records, next, Truncated: false);
    }

    /// <summary>
    /// Applies another store's committed entries (a replica following its primary): the same bytes are
    /// appended to this store's log, applied, committed once, and <paramref name="sourcePosition"/> (the
    /// primary's position after the last of them) is recorded durably in the same commit
    /// (<see cref="ReplicatedPosition"/>). This store's own feed then publishes them, so its indexes
    /// follow as they follow local writes.
    /// </summary>
    /// <exception cref="FaceIndexException">StorageCorrupted: an entry cannot be decoded; StorageUnavailable: the store cannot write.</exception>
    public Task AppendReplicatedAsync(IReadOnlyList<ChangeRecord> records, long sourcePosition, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var decoded = new WalEntry[records.Count];
        for (int i = 0; i < decoded.Length; i++)
        {
            decoded[i] = DecodeCommitted(records[i].Entry.Span, records[i].Position);
        }

        return Submit(store =>
        {
            foreach (var entry in decoded)
            {
                store.Append(entry);
            }

            store.Append(new PutBlobEntry(ReplicationPositionKey, BitConverter.GetBytes(sourcePosition)));
            return true;
        }, ct);
    }

    /// <summary>Decodes a committed entry; a malformed one is corruption, never skipped.</summary>
    private static WalEntry DecodeCommitted(ReadOnlySpan<byte> bytes, long address)
    {
        try
        {
            return WalCodec.Decode(bytes);
        }
        catch (InvalidDataException ex)
        {
            throw new FaceIndexException(
                FaceIndexError.StorageCorrupted,
                $"The committed log entry at offset {address} cannot be read ({ex.Message}); expected a log entry of format version {WalCodec.FormatVersion}. See 'faceindex repair'.",
                ex);
        }
    }

    /// <summary>Records an appended entry for the feed of the batch being committed. Writer only.</summary>
    private void RecordForFeed(WalEntry entry, long address, ReadOnlySpan<byte> encoded) =>
        _uncommitted.Add(new ChangeRecord(address, _wal.TailAddress, encoded.ToArray(), WalCodec.ChangesOf(entry)));

    /// <summary>Hands the committed batch to the subscribers, in log order. Writer only, after the commit.</summary>
    private void PublishCommitted()
    {
        if (_uncommitted.Count == 0)
        {
            return;
        }

        var batch = _uncommitted.ToArray();
        _uncommitted.Clear();
        Volatile.Write(ref _committedTail, batch[^1].NextPosition);
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            try
            {
                subscriber(batch);
            }
            catch (Exception ex)
            {
                // A subscriber's fault must not fail writes that are durable already.
                StoreLog.SubscriberFailed(_logger, ex);
            }
        }
    }

    /// <summary>The log address checkpoints may truncate up to: the checkpoint's, or lower where a consumer still needs the log.</summary>
    private long TruncationPoint(long checkpointAddress)
    {
        long point = checkpointAddress;
        foreach (var position in _retention.Values)
        {
            point = Math.Min(point, position);
        }

        return Math.Max(point, _wal.BeginAddress);
    }

    private sealed class Subscription(FaceStore store, Action<IReadOnlyList<ChangeRecord>> subscriber) : IDisposable
    {
        public void Dispose()
        {
            lock (store._subscriberGate)
            {
                store._subscribers = Array.FindAll(store._subscribers, s => s != subscriber);
            }
        }
    }
}
