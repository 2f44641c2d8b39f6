using FaceIndex.Storage;

namespace FaceIndex.Cluster.Internal;

internal sealed partial class ShardReplicaGrain
{
    private readonly Dictionary<string, FollowerLink> _links = new(StringComparer.Ordinal);
    private readonly Lock _linkGate = new();
    private IDisposable? _feedSubscription;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The store's writer calls this after each commit: wake the shippers (cheap, no I/O).</summary>
    private void OnCommitted(IReadOnlyList<ChangeRecord> records)
    {
        FollowerLink[] links;
        lock (_linkGate)
        {
            links = [.. _links.Values];
        }

        foreach (var link in links)
        {
            link.Wake();
        }
    }

    private async Task EnsurePrimaryAsync(long epoch)
    {
        if (epoch > ShardLayout.Epoch || !IsPrimary)
        {
            await RefreshLayoutAsync().ConfigureAwait(true);
        }

        if (!IsPrimary)
        {
            throw new NotPrimaryException($"Node '{_node}' is not the primary of shard {_shard} of '{_collection}' (epoch {ShardLayout.Epoch}).");
        }

        if (_options.WriteAcknowledgement == WriteAcknowledgement.Majority && ShardLayout.InSync.Count < (_layout!.Replication / 2) + 1)
        {
            throw new NodeUnavailableException($"Shard {_shard} of '{_collection}' has {ShardLayout.InSync.Count} in-sync replicas; a majority of {_layout.Replication} is needed to acknowledge writes.");
        }
    }

    private async Task RefreshLayoutAsync()
    {
        var layout = await Catalog.GetLayoutAsync(_collection).ConfigureAwait(true)
            ?? throw new NodeUnavailableException($"Collection '{_collection}' does not exist.");
        if (layout.Shards[_shard].Epoch >= (_layout?.Shards[_shard].Epoch ?? -1))
        {
            _layout = layout;
        }
    }

    /// <summary>Waits until enough copies hold the log up to (excluding) <paramref name="position"/> (see <see cref="WriteAcknowledgement"/>).</summary>
    private async Task WaitForCopiesAsync(long position)
    {
        while (true)
        {
            var progress = Volatile.Read(ref _progress).Task;
            var layout = ShardLayout;
            int followers = 0;
            int confirmed = 0;
            foreach (var node in layout.InSync)
            {
                if (string.Equals(node, _node, StringComparison.Ordinal))
                {
                    continue;
                }

                followers++;
                FollowerLink? link;
                lock (_linkGate)
                {
                    _links.TryGetValue(node, out link);
                }

                if (link is not null && Volatile.Read(ref link.Confirmed) >= position)
                {
                    confirmed++;
                }
            }

            int needed = _options.WriteAcknowledgement == WriteAcknowledgement.All ? followers : Math.Min(followers, _layout!.Replication / 2);
            if (confirmed >= needed)
            {
                return;
            }

            if (!IsPrimary)
            {
                throw new NotPrimaryException($"Node '{_node}' lost the primary role of shard {_shard} of '{_collection}' before the write was replicated.");
            }

            await WakeOrTimeAsync(progress, TimeSpan.FromSeconds(1)).ConfigureAwait(true);
        }
    }

    /// <summary>
    /// Waits for <paramref name="signal"/> or until <paramref name="timeout"/> has passed, whichever
    /// comes first, without throwing: the callers look at the state again either way (an idle link or
    /// a slow follower is not an error here; a follower that does not confirm is found by the ship timeout).
    /// </summary>
    private static async Task WakeOrTimeAsync(Task signal, TimeSpan timeout) =>
        await signal.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);

    private void SignalProgress() => Interlocked.Exchange(ref _progress, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task<bool> FollowAsync(string node, long position, long term)
    {
        await RefreshLayoutAsync().ConfigureAwait(true);
        if (!IsPrimary || term != ShardLayout.Term)
        {
            return false;
        }

        var link = new FollowerLink(node, position);
        lock (_linkGate)
        {
            if (_links.Remove(node, out var old))
            {
                old.Stop();
            }

            _links[node] = link;
        }

        link.Loop = ShipAsync(link);

        // Joins the in-sync set once it holds everything committed so far.
        long target = Database.Store.FeedEnd;
        while (Volatile.Read(ref link.Confirmed) < target)
        {
            if (link.Stopped)
            {
                return false;
            }

            await WakeOrTimeAsync(Volatile.Read(ref _progress).Task, TimeSpan.FromSeconds(1)).ConfigureAwait(true);
        }

        _layout = await Catalog.AddToInSyncAsync(_collection, _shard, node, ShardLayout.Term).ConfigureAwait(true);
        SignalProgress();
        return ShardLayout.InSync.Contains(node);
    }

    /// <summary>
    /// At the activation of a primary (a restart of its node before membership declared it dead, or a
    /// reactivation): the catalog still lists in-sync followers, but no link ships to them. Each is
    /// asked where it holds this primary's log and shipped from there; one that cannot answer is
    /// dropped from the in-sync set (it catches up and rejoins), so that writes never wait for a copy
    /// nobody ships.
    /// </summary>
    private async Task ResumeLinksAsync()
    {
        var layout = ShardLayout;
        foreach (var node in layout.InSync)
        {
            if (string.Equals(node, _node, StringComparison.Ordinal))
            {
                continue;
            }

            long position = -1;
            try
            {
                var status = await Replica(node).GetStatusAsync().WaitAsync(_options.ShipTimeout).ConfigureAwait(true);
                if (status.State == "in-sync" && status.ReplicatedPosition <= Database.Store.FeedEnd)
                {
                    position = status.ReplicatedPosition;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ClusterLog.FollowerDropped(_logger, _collection, _shard, node, ex.Message);
            }

            if (position < 0)
            {
                _layout = await Catalog.RemoveFromInSyncAsync(_collection, _shard, node, layout.Term).ConfigureAwait(true);
                continue;
            }

            var link = new FollowerLink(node, position);
            lock (_linkGate)
            {
                _links[node] = link;
            }

            link.Loop = ShipAsync(link);
        }
    }

    /// <summary>Ships every entry after the follower's position, in order, as the log grows; drops the follower from the in-sync set when it stops confirming.</summary>
    private async Task ShipAsync(FollowerLink link)
    {
        await Task.Yield();
        var follower = Replica(link.Node);
        long term = ShardLayout.Term;
        try
        {
            while (!link.Stopped && !_stopping.IsCancellationRequested)
            {
                var wake = link.WakeTask;
                long from = Volatile.Read(ref link.Confirmed);
                var read = Database.Store.ReadFeed(from, FeedPage);
                if (read.Truncated)
                {
                    throw new NodeUnavailableException($"The log of the primary no longer covers position {link.Confirmed} of follower '{link.Node}'.");
                }

                if (read.Records.Count == 0)
                {
                    await WakeOrTimeAsync(wake, TimeSpan.FromMilliseconds(500)).ConfigureAwait(true);
                    continue;
                }

                await follower.AppendAsync(from, ToShipped(read.Records), term).WaitAsync(_options.ShipTimeout).ConfigureAwait(true);
                Volatile.Write(ref link.Confirmed, read.NextPosition);
                Database.Store.RetainFeed(RetentionKey(link.Node), read.NextPosition);
                SignalProgress();
            }
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            ClusterLog.FollowerDropped(_logger, _collection, _shard, link.Node, ex.Message);
            link.Stop();

            // The writes waiting for this follower are released only once the catalog has taken it out
            // of the in-sync set (so that it can never be promoted without them): retried until it has,
            // since the first call can fail while membership is still settling, for instance when the
            // catalog lived on the node that died (a multi-process test saw writes wait for ever).
            while (!_stopping.IsCancellationRequested && IsPrimary && ShardLayout.Term == term && ShardLayout.InSync.Contains(link.Node))
            {
                try
                {
                    // A node that is stopping fails to ship because of itself: its followers stay in sync.
                    if (membership.CurrentSnapshot.GetSiloStatus(localSilo.SiloAddress) != SiloStatus.Active)
                    {
                        break;
                    }

                    _layout = await Catalog.RemoveFromInSyncAsync(_collection, _shard, link.Node, term).WaitAsync(_options.ShipTimeout * 2).ConfigureAwait(true);
                    if (!ShardLayout.InSync.Contains(link.Node))
                    {
                        break;
                    }
                }
                catch (Exception inner) when (inner is not OperationCanceledException)
                {
                    ClusterLog.FollowerDropped(_logger, _collection, _shard, link.Node, inner.Message);
                }

                await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(true);
            }

            lock (_linkGate)
            {
                if (_links.TryGetValue(link.Node, out var current) && ReferenceEquals(current, link))
                {
                    _links.Remove(link.Node);
                }
            }

            SignalProgress();
        }
    }

    /// <summary>
    /// Keeps this store's log for every other replica of the shard from the start (until each confirms
    /// a position), so that a follower that is down or new catches up from the log instead of needing a
    /// copy of the files. A follower that never returns keeps the log from being truncated: remove it
    /// from the layout to release it.
    /// </summary>
    private void RetainForFollowers()
    {
        foreach (var node in ShardLayout.Replicas)
        {
            if (!string.Equals(node, _node, StringComparison.Ordinal))
            {
                Database.Store.RetainFeed(RetentionKey(node), 0);
            }
        }
    }

    private static string RetentionKey(string node) => "replica/" + node;

    private async Task StopLinksAsync()
    {
        FollowerLink[] links;
        lock (_linkGate)
        {
            links = [.. _links.Values];
            _links.Clear();
        }

        foreach (var link in links)
        {
            link.Stop();
        }

        foreach (var link in links)
        {
            try
            {
                await link.Loop.ConfigureAwait(true);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
            {
            }
        }
    }

    /// <summary>A primary's shipping state for one follower: the position up to which it confirmed the log durable.</summary>
    private sealed class FollowerLink(string node, long confirmed)
    {
        public readonly string Node = node;
        public long Confirmed = confirmed;
        private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _stopped;

        public Task Loop { get; set; } = Task.CompletedTask;

        public bool Stopped => Volatile.Read(ref _stopped) != 0;

        public Task WakeTask => Volatile.Read(ref _wake).Task;

        public void Wake() => Interlocked.Exchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        public void Stop()
        {
            Volatile.Write(ref _stopped, 1);
            Wake();
        }
    }
}
