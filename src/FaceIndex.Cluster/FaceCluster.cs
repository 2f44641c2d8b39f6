using System.Collections.Concurrent;
using FaceIndex.Core;

namespace FaceIndex.Cluster;

/// <summary>
/// The cluster seen from a front door (a node's gRPC service, a test, a tool): routes writes to the
/// primary of the person's shard, fans searches out to one in-sync replica of every shard and merges
/// the results. Any node (or an Orleans client) can host one; it keeps only a cache of layouts.
/// </summary>
public sealed class FaceCluster(IGrainFactory grains, ClusterNodeOptions options)
{
    private const int WriteAttempts = 4;
    private readonly ConcurrentDictionary<string, CollectionLayout> _layouts = new(StringComparer.Ordinal);
    private int _rotation;

    private ICatalogGrain Catalog => grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);

    /// <summary>
    /// Creates a sharded collection (shards and replication default from the options) and waits until
    /// every replica is in sync, so that the first writes are acknowledged by all copies.
    /// </summary>
    /// <returns>The layout, and false when the collection existed already (its layout is returned).</returns>
    /// <exception cref="FaceIndexException">InvalidArgument: a count out of range; Unavailable: too few active nodes.</exception>
    public async Task<(CollectionLayout Layout, bool Created)> CreateCollectionAsync(string name, string modelVersion, int shards = 0, int replication = 0, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        shards = shards == 0 ? options.DefaultShards : shards;
        replication = replication == 0 ? options.DefaultReplication : replication;
        if (shards is < 1 or > ShardRouting.MaxShards)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"The shard count must be between 1 and {ShardRouting.MaxShards}; got {shards}.");
        }

        if (replication is < 1 or > ShardRouting.MaxReplication)
        {
            throw new FaceIndexException(FaceIndexError.InvalidArgument, $"The replication factor must be between 1 and {ShardRouting.MaxReplication}; got {replication}.");
        }

        (CollectionLayout layout, bool created) result;
        try
        {
            result = await Catalog.CreateCollectionAsync(name, modelVersion, shards, replication).WaitAsync(ct).ConfigureAwait(false);
        }
        catch (NodeUnavailableException ex)
        {
            throw new ClusterUnavailableException(ex.Message);
        }

        var layout = result.layout;
        for (int s = 0; s < layout.Shards.Count; s++)
        {
            await Replica(name, s, layout.Shards[s].Primary).OpenAsync().WaitAsync(ct).ConfigureAwait(false);
        }

        for (int s = 0; s < layout.Shards.Count; s++)
        {
            foreach (var node in layout.Shards[s].Replicas)
            {
                await Replica(name, s, node).OpenAsync().WaitAsync(ct).ConfigureAwait(false);
            }
        }

        // Followers catch up in the background; wait (bounded) until every copy is in sync.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            layout = await RefreshAsync(name).ConfigureAwait(false) ?? layout;
            if (layout.Shards.All(s => s.InSync.Count == layout.Replication))
            {
                break;
            }

            await Task.Delay(50, ct).ConfigureAwait(false);
        }

        return (layout, result.created);
    }

    /// <summary>The layout of a collection; NotFound when there is none.</summary>
    public async Task<CollectionLayout> GetLayoutAsync(string collection)
    {
        if (_layouts.TryGetValue(collection, out var layout))
        {
            return layout;
        }

        return await RefreshAsync(collection).ConfigureAwait(false)
            ?? throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{collection}' does not exist.");
    }

    /// <summary>Every collection's layout, in name order.</summary>
    public Task<IReadOnlyList<CollectionLayout>> ListCollectionsAsync() => Catalog.ListAsync();

    /// <summary>Deletes a collection on every replica; false when there was none.</summary>
    public async Task<bool> DeleteCollectionAsync(string collection)
    {
        var layout = await RefreshAsync(collection).ConfigureAwait(false);
        if (layout is null || !await Catalog.DeleteCollectionAsync(collection).ConfigureAwait(false))
        {
            return false;
        }

        _layouts.TryRemove(collection, out _);
        for (int s = 0; s < layout.Shards.Count; s++)
        {
            foreach (var node in layout.Shards[s].Replicas)
            {
                try
                {
                    await Replica(collection, s, node).DropAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (IsUnavailable(ex))
                {
                    // A down node's copy is left; the collection no longer names it.
                }
            }
        }

        return true;
    }

    /// <summary>Enrols faces of a person on its shard; returns once the required copies are durable.</summary>
    public Task<ShardAddResult> AddFacesAsync(string collection, ShardAddFaces request) =>
        WriteAsync(collection, ShardRouting.ShardOf(request.PersonId, ShardCountOf(collection)), (replica, epoch) => replica.AddFacesAsync(request, epoch), request.PersonId);

    /// <summary>Deletes a face by its cluster id; false when there was none.</summary>
    public async Task<bool> DeleteFaceAsync(string collection, long faceId)
    {
        var layout = await GetLayoutAsync(collection).ConfigureAwait(false);
        if (faceId <= 0)
        {
            return false;
        }

        int shard = ShardRouting.ShardOfFace(faceId, layout.Shards.Count);
        return await WriteAsync(collection, shard, (replica, epoch) => replica.DeleteFaceAsync(faceId, epoch), null).ConfigureAwait(false);
    }

    /// <summary>Deletes a person with their faces; returns the deleted face ids, or null when there was no such person.</summary>
    public Task<IReadOnlyList<long>?> DeletePersonAsync(string collection, string personId) =>
        WriteAsync(collection, ShardRouting.ShardOf(personId, ShardCountOf(collection)), (replica, epoch) => replica.DeletePersonAsync(personId, epoch), personId);

    /// <summary>Replaces a person's metadata on the person's shard; false when there is no such person.</summary>
    public Task<bool> SetPersonMetadataAsync(string collection, string personId, IReadOnlyDictionary<string, string> metadata) =>
        WriteAsync(collection, ShardRouting.ShardOf(personId, ShardCountOf(collection)), (replica, epoch) => replica.SetPersonMetadataAsync(personId, new Dictionary<string, string>(metadata, StringComparer.Ordinal), epoch), personId);

    /// <summary>
    /// The best <paramref name="k"/> faces of the collection, best first: every shard's top-k from one
    /// in-sync replica (another when it does not answer within <see cref="ClusterNodeOptions.ReplicaDeadline"/>),
    /// merged by score (then by face id).
    /// </summary>
    /// <exception cref="FaceIndexException">Unavailable: no replica of some shard answered.</exception>
    public async Task<IReadOnlyList<ShardHit>> SearchAsync(string collection, FaceVector query, int k, int ef = 0)
    {
        var layout = await GetLayoutAsync(collection).ConfigureAwait(false);
        var bytes = query.ToArray();
        var perShard = await Task.WhenAll(Enumerable.Range(0, layout.Shards.Count)
            .Select(s => ReadAsync(layout, s, replica => replica.SearchAsync(bytes, k, ef)))).ConfigureAwait(false);
        var all = new List<ShardHit>(k * perShard.Length);
        foreach (var hits in perShard)
        {
            all.AddRange(hits);
        }

        all.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.FaceId.CompareTo(b.FaceId));
        return all.Count > k ? all.GetRange(0, k) : all;
    }

    /// <summary>A person from its shard, or null.</summary>
    public async Task<ShardPerson?> GetPersonAsync(string collection, string personId)
    {
        var layout = await GetLayoutAsync(collection).ConfigureAwait(false);
        return await ReadAsync(layout, ShardRouting.ShardOf(personId, layout.Shards.Count), replica => replica.GetPersonAsync(personId)).ConfigureAwait(false);
    }

    /// <summary>A probe code against a person's faces, on the person's shard (no vector leaves it); null when the person has no faces.</summary>
    public async Task<ShardVerify?> VerifyPersonAsync(string collection, string personId, FaceVector probe)
    {
        var layout = await GetLayoutAsync(collection).ConfigureAwait(false);
        var bytes = probe.ToArray();
        return await ReadAsync(layout, ShardRouting.ShardOf(personId, layout.Shards.Count), replica => replica.VerifyAsync(personId, bytes)).ConfigureAwait(false);
    }

    /// <summary>Persons in id order after <paramref name="after"/>, at most <paramref name="count"/>, merged over the shards.</summary>
    public async Task<IReadOnlyList<ShardPerson>> ListPersonsAsync(string collection, string? after, int count)
    {
        var layout = await GetLayoutAsync(collection).ConfigureAwait(false);
        var pages = await Task.WhenAll(Enumerable.Range(0, layout.Shards.Count)
            .Select(s => ReadAsync(layout, s, replica => replica.ListPersonsAsync(after, count)))).ConfigureAwait(false);
        return [.. pages.SelectMany(p => p).OrderBy(p => p.PersonId, StringComparer.Ordinal).Take(count)];
    }

    /// <summary>
    /// Every node membership knows, in name order: a node that restarted is listed once, as its newest
    /// incarnation (the older ones are dead).
    /// </summary>
    public async Task<IReadOnlyList<NodeStatus>> GetNodesAsync()
    {
        var entries = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).ConfigureAwait(false);
        var newest = new Dictionary<string, MembershipEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!newest.TryGetValue(entry.SiloName, out var seen) || entry.StartTime > seen.StartTime)
            {
                newest[entry.SiloName] = entry;
            }
        }

        var nodes = new List<NodeStatus>(newest.Count);
        foreach (var entry in newest.Values)
        {
            nodes.Add(new NodeStatus(entry.SiloName, NodeStatus.Describe(entry.Status), entry.SiloAddress.Endpoint.ToString(), new DateTimeOffset(DateTime.SpecifyKind(entry.StartTime, DateTimeKind.Utc))));
        }

        nodes.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return nodes;
    }

    /// <summary>Every replica of a collection: role, state, counts and lag; a replica that does not answer is "down".</summary>
    public async Task<IReadOnlyList<ReplicaStatus>> GetStatusAsync(string collection)
    {
        var layout = await RefreshAsync(collection).ConfigureAwait(false)
            ?? throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{collection}' does not exist.");
        var calls = new List<Task<ReplicaStatus>>();
        for (int s = 0; s < layout.Shards.Count; s++)
        {
            foreach (var node in layout.Shards[s].Replicas)
            {
                calls.Add(StatusOfAsync(collection, s, node));
            }
        }

        return await Task.WhenAll(calls).ConfigureAwait(false);
    }

    private async Task<ReplicaStatus> StatusOfAsync(string collection, int shard, string node)
    {
        try
        {
            return await Replica(collection, shard, node).GetStatusAsync().WaitAsync(options.ReplicaDeadline).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            return new ReplicaStatus { Node = node, Shard = shard, Role = "replica", State = "down", Lag = -1, LastPosition = -1, ReplicatedPosition = -1, Reason = ex.Message };
        }
    }

    private int ShardCountOf(string collection) =>
        _layouts.TryGetValue(collection, out var layout) ? layout.Shards.Count : GetLayoutAsync(collection).GetAwaiter().GetResult().Shards.Count;

    private async Task<T> WriteAsync<T>(string collection, int shard, Func<IShardReplicaGrain, long, Task<T>> write, string? personId)
    {
        _ = personId;
        var layout = await GetLayoutAsync(collection).ConfigureAwait(false);
        Exception? last = null;
        for (int attempt = 0; attempt < WriteAttempts; attempt++)
        {
            var shardLayout = layout.Shards[shard];
            try
            {
                return await write(Replica(collection, shard, shardLayout.Primary), shardLayout.Epoch).ConfigureAwait(false);
            }
            catch (NotPrimaryException ex)
            {
                last = ex;
            }
            catch (Exception ex) when (IsUnavailable(ex))
            {
                last = ex;
                try
                {
                    layout = await Catalog.FailoverAsync(collection, shard, shardLayout.Epoch).ConfigureAwait(false);
                    _layouts[collection] = layout;
                }
                catch (NodeUnavailableException failover)
                {
                    throw new ClusterUnavailableException(failover.Message);
                }
            }

            await Task.Delay(100 * (attempt + 1)).ConfigureAwait(false);
            layout = await RefreshAsync(collection).ConfigureAwait(false)
                ?? throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{collection}' does not exist.");
        }

        throw new ClusterUnavailableException($"Shard {shard} of '{collection}' could not take the write: {last?.Message}");
    }

    private async Task<T> ReadAsync<T>(CollectionLayout layout, int shard, Func<IShardReplicaGrain, Task<T>> read)
    {
        try
        {
            return await ReadOnceAsync(layout, shard, read).ConfigureAwait(false);
        }
        catch (ClusterUnavailableException)
        {
            // The cached layout may be stale (a failover, a follower that rejoined): once more with the catalog's.
            var fresh = await RefreshAsync(layout.Name).ConfigureAwait(false)
                ?? throw new FaceIndexException(FaceIndexError.NotFound, $"Collection '{layout.Name}' does not exist.");
            return await ReadOnceAsync(fresh, shard, read).ConfigureAwait(false);
        }
    }

    private async Task<T> ReadOnceAsync<T>(CollectionLayout layout, int shard, Func<IShardReplicaGrain, Task<T>> read)
    {
        var candidates = layout.Shards[shard].InSync;
        int start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)candidates.Count);
        Exception? last = null;
        for (int i = 0; i < candidates.Count; i++)
        {
            var node = candidates[(start + i) % candidates.Count];
            try
            {
                return await read(Replica(layout.Name, shard, node)).WaitAsync(options.ReplicaDeadline).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsUnavailable(ex))
            {
                last = ex;
            }
        }

        throw new ClusterUnavailableException($"No in-sync replica of shard {shard} of '{layout.Name}' answered (in sync: {string.Join(", ", candidates)}; epoch {layout.Shards[shard].Epoch}): {last?.Message}");
    }

    private async Task<CollectionLayout?> RefreshAsync(string collection)
    {
        var layout = await Catalog.GetLayoutAsync(collection).ConfigureAwait(false);
        if (layout is null)
        {
            _layouts.TryRemove(collection, out _);
        }
        else
        {
            _layouts[collection] = layout;
        }

        return layout;
    }

    private IShardReplicaGrain Replica(string collection, int shard, string node) =>
        grains.GetGrain<IShardReplicaGrain>(ReplicaKey.Format(collection, shard, node));

    private static bool IsUnavailable(Exception ex) =>
        ex is NodeUnavailableException or TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or ObjectDisposedException;
}
