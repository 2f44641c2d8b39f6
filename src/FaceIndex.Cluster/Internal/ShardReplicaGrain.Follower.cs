using System.Globalization;
using FaceIndex.Storage;

namespace FaceIndex.Cluster.Internal;

internal sealed partial class ShardReplicaGrain
{
    private const string FollowFileName = "follow.txt";
    private const string OriginFileName = "origin.txt";
    private long _origin;
    private Task _catchUp = Task.CompletedTask;
    private string _followState = "catching-up";
    private string? _followReason;
    private long _lag = -1;

    public async Task AppendAsync(long from, IReadOnlyList<ShippedEntry> entries, long term)
    {
        if (term > ShardLayout.Term)
        {
            await RefreshLayoutAsync().ConfigureAwait(true);
        }

        if (term < ShardLayout.Term || IsPrimary)
        {
            throw new NotPrimaryException($"Entries of term {term} refused: shard {_shard} of '{_collection}' is at term {ShardLayout.Term} with primary '{ShardLayout.Primary}'.");
        }

        await AppendLocallyAsync(from, entries).ConfigureAwait(true);
    }

    /// <summary>
    /// Appends the primary's entries that this replica does not hold yet, in one durable commit.
    /// <paramref name="from"/> is where the primary read them: past this replica's position, entries
    /// in between would be missing (a shipper that outlived a start-over), so they are refused.
    /// </summary>
    private async Task AppendLocallyAsync(long from, IReadOnlyList<ShippedEntry> entries)
    {
        await _appendGate.WaitAsync(_stopping.Token).ConfigureAwait(true);
        try
        {
            var store = Database.Store;
            long have = Volatile.Read(ref _applied);
            if (have < 0)
            {
                throw new NodeUnavailableException($"Replica of shard {_shard} of '{_collection}' on '{_node}' has not resolved its position in the primary's log yet.");
            }

            if (from > have)
            {
                throw new NodeUnavailableException($"Replica of shard {_shard} of '{_collection}' on '{_node}' holds the primary's log up to {have}; entries read from {from} would leave a gap.");
            }

            var records = new List<ChangeRecord>(entries.Count);
            foreach (var entry in entries)
            {
                if (entry.Position >= have)
                {
                    records.Add(new ChangeRecord(entry.Position, entry.NextPosition, entry.Entry, []));
                }
            }

            if (records.Count > 0)
            {
                await store.AppendReplicatedAsync(records, records[^1].NextPosition, _stopping.Token).ConfigureAwait(true);
                Volatile.Write(ref _applied, records[^1].NextPosition);
            }
        }
        finally
        {
            _appendGate.Release();
        }
    }

    /// <summary>The current primary's position after the last entry this replica holds (0: none, from the start of its log); -1 until resolved.</summary>
    private long _applied = -1;

    /// <summary>At activation: the position in the primary's log this replica holds, when it follows that primary already.</summary>
    private void ResolveAppliedAtOpen()
    {
        var (following, switchedFrom, switchedAt) = ReadFollowFile();
        if (!IsPrimary && string.Equals(following, ShardLayout.Primary, StringComparison.Ordinal))
        {
            long replicated = Database.Store.ReplicatedPosition;
            _applied = replicated == switchedFrom ? switchedAt : Math.Max(replicated, 0);
        }
    }

    /// <summary>Starts catching up with the primary when this replica is a follower that is not in sync (idempotent).</summary>
    private void StartFollowing()
    {
        if (_catchUp.IsCompleted && !_stopping.IsCancellationRequested)
        {
            _catchUp = CatchUpAsync();
        }
    }

    /// <summary>
    /// Pulls the primary's log from this replica's position until it is close, then asks the primary to
    /// ship the rest and to count it in sync. A replica whose entries the primary's log cannot continue
    /// (it diverged, or the log was truncated past its position) starts again from an empty store.
    /// </summary>
    private async Task CatchUpAsync()
    {
        await Task.Yield();
        try
        {
            await RefreshLayoutAsync().ConfigureAwait(true);
            var layout = ShardLayout;
            if (IsPrimary || layout.InSync.Contains(_node))
            {
                _followState = "in-sync";
                _followReason = null;
                _lag = 0;
                return;
            }

            _followState = "catching-up";
            long position = await UnderAppendGateAsync(() => ResolvePositionAsync(layout)).ConfigureAwait(true);
            var primary = Replica(layout.Primary);
            while (!_stopping.IsCancellationRequested)
            {
                var feed = await primary.ReadFeedAsync(position, FeedPage).WaitAsync(_options.ShipTimeout).ConfigureAwait(true);
                if (feed.Truncated)
                {
                    if (position <= 0)
                    {
                        _followState = "needs-full-copy";
                        _followReason = "the primary's log no longer starts at its beginning; a file copy of the shard is needed (not implemented)";
                        return;
                    }

                    position = await UnderAppendGateAsync(() => StartOverAsync(layout)).ConfigureAwait(true);
                    continue;
                }

                if (feed.Entries.Count > 0)
                {
                    await AppendLocallyAsync(position, feed.Entries).ConfigureAwait(true);
                    position = feed.Entries[^1].NextPosition;
                }

                _lag = Math.Max(0, feed.LastPosition - position);
                if (feed.Entries.Count < FeedPage)
                {
                    if (await primary.FollowAsync(_node, position, layout.Term).ConfigureAwait(true))
                    {
                        _followState = "in-sync";
                        _followReason = null;
                        _lag = 0;
                    }

                    return;
                }
            }
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            _followReason = ex.Message;
            ClusterLog.CatchUpFailed(_logger, _collection, _shard, _node, ex.Message);
        }
    }

    /// <summary>
    /// Runs <paramref name="resolve"/> (which sets the position this replica holds, or replaces its
    /// store) with no append in flight, so that an append that was under way cannot move the position
    /// past entries the new store does not hold.
    /// </summary>
    private async Task<long> UnderAppendGateAsync(Func<Task<long>> resolve)
    {
        await _appendGate.WaitAsync(_stopping.Token).ConfigureAwait(true);
        try
        {
            return await resolve().ConfigureAwait(true);
        }
        finally
        {
            _appendGate.Release();
        }
    }

    /// <summary>
    /// The position in the primary's log after which this replica continues: its replicated position
    /// when it follows that primary already; the primary's promotion point when this replica's log ends
    /// exactly where the primary took over from the previous one; otherwise it starts over from empty. Under the append gate.
    /// </summary>
    private async Task<long> ResolvePositionAsync(ShardLayout layout)
    {
        var store = Database.Store;
        var (following, switchedFrom, switchedAt) = ReadFollowFile();
        if (string.Equals(following, layout.Primary, StringComparison.Ordinal))
        {
            // Nothing appended since the switch: the store's position is still the previous primary's.
            long applied = store.ReplicatedPosition == switchedFrom ? switchedAt : Math.Max(store.ReplicatedPosition, 0);
            Volatile.Write(ref _applied, applied);
            return applied;
        }

        bool sameEntries = following is not null && string.Equals(following, layout.PreviousPrimary, StringComparison.Ordinal) && store.ReplicatedPosition == layout.PromotedFrom;
        bool wasPrimary = string.Equals(_node, layout.PreviousPrimary, StringComparison.Ordinal) && store.FeedEnd == layout.PromotedFrom;
        if (following is null && !Database.TryGetCollection(_collection, out _) && layout.PreviousPrimary is null)
        {
            // A fresh replica of a shard that never changed primary: the whole log from its start.
            WriteFollowFile(layout.Primary, store.ReplicatedPosition, 0);
            Volatile.Write(ref _applied, 0);
            return 0;
        }

        if ((sameEntries || wasPrimary) && layout.PromotedAt >= 0)
        {
            WriteFollowFile(layout.Primary, store.ReplicatedPosition, layout.PromotedAt);
            Volatile.Write(ref _applied, layout.PromotedAt);
            return layout.PromotedAt;
        }

        return await StartOverAsync(layout).ConfigureAwait(true);
    }

    /// <summary>Deletes this replica's store and index and opens an empty one that follows the primary from the start of its log. Under the append gate.</summary>
    private async Task<long> StartOverAsync(ShardLayout layout)
    {
        ClusterLog.StartingOver(_logger, _collection, _shard, _node, layout.Primary);
        _feedSubscription?.Dispose();
        var old = _database;
        _database = null;
        if (old is not null)
        {
            await old.DisposeAsync().ConfigureAwait(true);
        }

        Directory.Delete(_directory, recursive: true);
        _database = await OpenDatabaseAsync(_stopping.Token).ConfigureAwait(true);
        _feedSubscription = _database.Store.SubscribeToFeed(OnCommitted);
        _origin = ReadOrigin();
        WriteFollowFile(layout.Primary, _database.Store.ReplicatedPosition, 0);
        Volatile.Write(ref _applied, 0);
        return 0;
    }

    /// <summary>
    /// Where this store's log began: recorded when the shard's store is first opened empty, so that a
    /// follower asking for "everything" (position 0) gets the whole log or is told it was truncated.
    /// </summary>
    private long ReadOrigin()
    {
        var path = Path.Combine(_directory, OriginFileName);
        if (File.Exists(path))
        {
            return long.Parse(File.ReadAllText(path), CultureInfo.InvariantCulture);
        }

        long start = Database.Store.FeedStart;
        File.WriteAllText(path, start.ToString(CultureInfo.InvariantCulture));
        return start;
    }

    private (string? Primary, long SwitchedFrom, long SwitchedAt) ReadFollowFile()
    {
        var path = Path.Combine(_directory, FollowFileName);
        if (!File.Exists(path))
        {
            return (null, -1, -1);
        }

        var parts = File.ReadAllText(path).Split('\n');
        return parts.Length >= 3
            ? (parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture))
            : (null, -1, -1);
    }

    /// <summary>Records durably which primary this replica follows and where it switched to it (written before the first append from it).</summary>
    private void WriteFollowFile(string primary, long switchedFrom, long switchedAt)
    {
        var path = Path.Combine(_directory, FollowFileName);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{primary}\n{switchedFrom}\n{switchedAt}\n"));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
