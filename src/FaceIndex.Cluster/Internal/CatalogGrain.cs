namespace FaceIndex.Cluster.Internal;

/// <summary>The persisted state of the catalog: every collection's layout by name.</summary>
[GenerateSerializer]
internal sealed class CatalogState
{
    [Id(0)] public Dictionary<string, CollectionLayout> Collections { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The single writer of the cluster's layouts. Not reentrant: each change of primary or in-sync set
/// is decided and persisted before the next call is looked at.
/// </summary>
internal sealed class CatalogGrain(
    [PersistentState("catalog", ClusterHosting.CatalogStorage)] IPersistentState<CatalogState> state,
    IClusterMembershipService membership) : Grain, ICatalogGrain
{
    public async Task<(CollectionLayout Layout, bool Created)> CreateCollectionAsync(string name, string modelVersion, int shards, int replication)
    {
        if (state.State.Collections.TryGetValue(name, out var existing))
        {
            return (existing, false);
        }

        var nodes = ActiveNodes();
        if (nodes.Count < replication)
        {
            throw new NodeUnavailableException($"A replication factor of {replication} needs {replication} active nodes; the cluster has {nodes.Count}.");
        }

        // Replicas of shard s on nodes s, s+1, … (mod N): distinct nodes, primaries spread evenly.
        var layouts = new ShardLayout[shards];
        for (int s = 0; s < shards; s++)
        {
            var replicas = new string[replication];
            for (int r = 0; r < replication; r++)
            {
                replicas[r] = nodes[(s + r) % nodes.Count];
            }

            layouts[s] = new ShardLayout { Replicas = replicas, Primary = replicas[0], InSync = [replicas[0]], Epoch = 1 };
        }

        var layout = new CollectionLayout { Name = name, ModelVersion = modelVersion, CreatedAt = DateTimeOffset.UtcNow, Replication = replication, Shards = layouts };
        state.State.Collections[name] = layout;
        await state.WriteStateAsync().ConfigureAwait(true);
        return (layout, true);
    }

    public Task<CollectionLayout?> GetLayoutAsync(string name) =>
        Task.FromResult(state.State.Collections.TryGetValue(name, out var layout) ? layout : null);

    public Task<IReadOnlyList<CollectionLayout>> ListAsync() =>
        Task.FromResult<IReadOnlyList<CollectionLayout>>([.. state.State.Collections.Values.OrderBy(l => l.Name, StringComparer.Ordinal)]);

    public async Task<bool> DeleteCollectionAsync(string name)
    {
        if (!state.State.Collections.Remove(name))
        {
            return false;
        }

        await state.WriteStateAsync().ConfigureAwait(true);
        return true;
    }

    public async Task<CollectionLayout> FailoverAsync(string name, int shard, long epoch)
    {
        var layout = Get(name);
        var current = layout.Shards[shard];
        var active = ActiveNodes();
        if (current.Epoch != epoch || active.Contains(current.Primary))
        {
            return layout;
        }

        // The most advanced in-sync follower on an active node (with every acknowledged write when
        // writes wait for all in-sync copies; the furthest when they wait for a majority).
        string? best = null;
        long bestPosition = long.MinValue;
        long bestLast = -1;
        foreach (var node in current.InSync)
        {
            if (node == current.Primary || !active.Contains(node))
            {
                continue;
            }

            try
            {
                var status = await GrainFactory.GetGrain<IShardReplicaGrain>(ReplicaKey.Format(name, shard, node))
                    .GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(true);
                if (status.ReplicatedPosition > bestPosition)
                {
                    best = node;
                    bestPosition = status.ReplicatedPosition;
                    bestLast = status.LastPosition;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // That follower cannot answer: it is no candidate.
            }
        }

        if (best is null)
        {
            throw new NodeUnavailableException($"Shard {shard} of '{name}' has no in-sync replica on an active node: its primary '{current.Primary}' is down.");
        }

        return await UpdateAsync(name, shard, current with
        {
            Primary = best,
            InSync = [best],
            Epoch = current.Epoch + 1,
            Term = current.Term + 1,
            PreviousPrimary = current.Primary,
            PromotedFrom = bestPosition,
            PromotedAt = bestLast,
        }).ConfigureAwait(true);
    }

    public async Task<CollectionLayout> RemoveFromInSyncAsync(string name, int shard, string node, long term)
    {
        var layout = Get(name);
        var current = layout.Shards[shard];
        if (current.Term != term || node == current.Primary || !current.InSync.Contains(node))
        {
            return layout;
        }

        // Only a primary that membership lists as active may shrink its in-sync set: one that is
        // stopping or declared dead fails to ship because of itself, and dropping its followers
        // would leave no in-sync copy to fail over to.
        if (!ActiveNodes().Contains(current.Primary))
        {
            return layout;
        }

        return await UpdateAsync(name, shard, current with { InSync = [.. current.InSync.Where(n => n != node)], Epoch = current.Epoch + 1 }).ConfigureAwait(true);
    }

    public async Task<CollectionLayout> AddToInSyncAsync(string name, int shard, string node, long term)
    {
        var layout = Get(name);
        var current = layout.Shards[shard];
        if (current.Term != term || current.InSync.Contains(node) || !current.Replicas.Contains(node))
        {
            return layout;
        }

        return await UpdateAsync(name, shard, current with { InSync = [.. current.InSync, node], Epoch = current.Epoch + 1 }).ConfigureAwait(true);
    }

    private CollectionLayout Get(string name) =>
        state.State.Collections.TryGetValue(name, out var layout) ? layout : throw new NodeUnavailableException($"Collection '{name}' does not exist.");

    private async Task<CollectionLayout> UpdateAsync(string name, int shard, ShardLayout shardLayout)
    {
        var layout = state.State.Collections[name];
        var shards = layout.Shards.ToArray();
        shards[shard] = shardLayout;
        layout = layout with { Shards = shards };
        state.State.Collections[name] = layout;
        await state.WriteStateAsync().ConfigureAwait(true);
        return layout;
    }

    private List<string> ActiveNodes()
    {
        var names = new List<string>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && !names.Contains(member.Name))
            {
                names.Add(member.Name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
