namespace FaceIndex.Cluster;

/// <summary>
/// The cluster's catalog: every sharded collection's layout (shards, replicas, primaries, in-sync sets),
/// kept in grain storage. One activation in the cluster (key <see cref="Key"/>); it decides every change
/// of primary and of in-sync set, so two nodes never disagree about who takes a shard's writes.
/// </summary>
[Alias("FaceIndex.Cluster.ICatalogGrain")]
public interface ICatalogGrain : IGrainWithStringKey
{
    /// <summary>The key of the catalog grain.</summary>
    const string Key = "catalog";

    /// <summary>Creates a collection over the active nodes; returns its layout and whether it was created (false: it existed).</summary>
    [Alias("Create")]
    Task<(CollectionLayout Layout, bool Created)> CreateCollectionAsync(string name, string modelVersion, int shards, int replication);

    /// <summary>The layout of a collection, or null.</summary>
    [Alias("Get")]
    Task<CollectionLayout?> GetLayoutAsync(string name);

    /// <summary>Every collection's layout, in name order.</summary>
    [Alias("List")]
    Task<IReadOnlyList<CollectionLayout>> ListAsync();

    /// <summary>Deletes a collection's layout (its replicas drop their data); false when there was none.</summary>
    [Alias("Delete")]
    Task<bool> DeleteCollectionAsync(string name);

    /// <summary>
    /// Makes another in-sync replica primary when the primary's node is no longer active (the most
    /// advanced one). Returns the shard's layout afterwards (unchanged when the primary is alive or the epoch moved on).
    /// </summary>
    [Alias("Failover")]
    Task<CollectionLayout> FailoverAsync(string name, int shard, long epoch);

    /// <summary>Removes a follower that stopped confirming from the in-sync set; asked by the primary of <paramref name="term"/>.</summary>
    [Alias("Drop")]
    Task<CollectionLayout> RemoveFromInSyncAsync(string name, int shard, string node, long term);

    /// <summary>Adds a follower that caught up to the in-sync set; asked by the primary of <paramref name="term"/>.</summary>
    [Alias("Join")]
    Task<CollectionLayout> AddToInSyncAsync(string name, int shard, string node, long term);
}

/// <summary>
/// One replica of one shard of a collection, placed on the node its key names
/// (<see cref="ReplicaKey"/>); it owns a store and an index in that node's data directory.
/// The primary takes writes and ships its committed log entries to the in-sync followers.
/// </summary>
[Alias("FaceIndex.Cluster.IShardReplicaGrain")]
public interface IShardReplicaGrain : IGrainWithStringKey
{
    /// <summary>Opens the replica (and, on a follower, starts catching up); a no-op when open.</summary>
    [Alias("Open")]
    Task OpenAsync();

    /// <summary>Enrols faces of a person; acknowledged once the required copies are durable. Primary only.</summary>
    [Alias("Add")]
    Task<ShardAddResult> AddFacesAsync(ShardAddFaces request, long epoch);

    /// <summary>Deletes a face (cluster id); returns whether it existed. Primary only.</summary>
    [Alias("DeleteFace")]
    Task<bool> DeleteFaceAsync(long faceId, long epoch);

    /// <summary>Deletes a person; returns the cluster ids of the faces deleted, or null when there was no such person. Primary only.</summary>
    [Alias("DeletePerson")]
    Task<IReadOnlyList<long>?> DeletePersonAsync(string personId, long epoch);

    /// <summary>Replaces a person's metadata; false when there is no such person. Primary only.</summary>
    [Alias("SetPersonMetadata")]
    Task<bool> SetPersonMetadataAsync(string personId, Dictionary<string, string> metadata, long epoch);

    /// <summary>The best <paramref name="k"/> faces of this shard for the query code, best first.</summary>
    [Alias("Search")]
    Task<IReadOnlyList<ShardHit>> SearchAsync(byte[] query, int k, int ef);

    /// <summary>A person, or null.</summary>
    [Alias("GetPerson")]
    Task<ShardPerson?> GetPersonAsync(string personId);

    /// <summary>The probe code against the person's faces: the nearest one; null when the person has no faces here.</summary>
    [Alias("Verify")]
    Task<ShardVerify?> VerifyAsync(string personId, byte[] probe);

    /// <summary>Persons in id order after <paramref name="after"/> (null: from the start), at most <paramref name="count"/>.</summary>
    [Alias("ListPersons")]
    Task<IReadOnlyList<ShardPerson>> ListPersonsAsync(string? after, int count);

    /// <summary>Counts, positions, role and state.</summary>
    [Alias("Status")]
    Task<ReplicaStatus> GetStatusAsync();

    /// <summary>Entries of this replica's log after <paramref name="afterPosition"/> (catch-up of a follower).</summary>
    [Alias("ReadFeed")]
    Task<ShippedFeed> ReadFeedAsync(long afterPosition, int maxEntries);

    /// <summary>
    /// Follower side: appends and applies the primary's entries durably. <paramref name="from"/> is the
    /// position the primary read them from; the follower refuses them when it does not hold the log up
    /// to there (entries in between would be missing).
    /// </summary>
    [Alias("Append")]
    Task AppendAsync(long from, IReadOnlyList<ShippedEntry> entries, long term);

    /// <summary>Primary side: a follower that caught up to <paramref name="position"/> asks to be shipped every entry after it and to join the in-sync set.</summary>
    [Alias("Follow")]
    Task<bool> FollowAsync(string node, long position, long term);

    /// <summary>Deletes this replica's data and deactivates it (its collection was deleted).</summary>
    [Alias("Drop")]
    Task DropAsync();
}

/// <summary>Keys of the replica grains.</summary>
public static class ReplicaKey
{
    /// <summary>The key of replica of shard <paramref name="shard"/> of <paramref name="collection"/> on <paramref name="node"/>.</summary>
    public static string Format(string collection, int shard, string node) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{shard}|{node}|{collection}");

    /// <summary>Splits a replica key; false when it is not one.</summary>
    public static bool TryParse(string key, out string collection, out int shard, out string node)
    {
        collection = node = string.Empty;
        shard = -1;
        var parts = key.Split('|', 3);
        if (parts.Length != 3 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out shard))
        {
            return false;
        }

        node = parts[1];
        collection = parts[2];
        return true;
    }
}
