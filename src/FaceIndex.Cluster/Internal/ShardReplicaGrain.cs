using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using FaceIndex.Core;
using FaceIndex.Engine;
using FaceIndex.Index;
using FaceIndex.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace FaceIndex.Cluster.Internal;

/// <summary>
/// One replica of one shard: a <see cref="FaceDatabase"/> (store + index) in its node's data directory.
/// Reentrant, so that concurrent writes share the store's group commits; the state it shares between
/// calls is guarded where it changes.
/// </summary>
[NodePlacement]
[Reentrant]
internal sealed partial class ShardReplicaGrain(
    IOptions<ClusterNodeOptions> options,
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    ILoggerFactory loggerFactory) : Grain, IShardReplicaGrain, IDisposable
{
    private const int FeedPage = 1024;
    private readonly ClusterNodeOptions _options = options.Value;
    private readonly ILogger _logger = loggerFactory.CreateLogger<ShardReplicaGrain>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _appendGate = new(1, 1);
    private string _collection = string.Empty;
    private string _node = string.Empty;
    private int _shard;
    private string _directory = string.Empty;
    private FaceDatabase? _database;
    private CollectionLayout? _layout;

    private FaceDatabase Database => _database ?? throw new NodeUnavailableException($"Replica {this.GetPrimaryKeyString()} is not open.");

    private ShardLayout ShardLayout => _layout!.Shards[_shard];

    private int ShardCount => _layout!.Shards.Count;

    private bool IsPrimary => string.Equals(ShardLayout.Primary, _node, StringComparison.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!ReplicaKey.TryParse(this.GetPrimaryKeyString(), out _collection, out _shard, out _node))
        {
            throw new InvalidOperationException($"'{this.GetPrimaryKeyString()}' is not a replica key.");
        }

        _layout = await Catalog.GetLayoutAsync(_collection).ConfigureAwait(true)
            ?? throw new NodeUnavailableException($"Collection '{_collection}' does not exist.");
        _directory = ShardDirectory(_options, _node, _collection, _shard);
        _database = await OpenDatabaseAsync(cancellationToken).ConfigureAwait(true);
        _feedSubscription = _database.Store.SubscribeToFeed(OnCommitted);
        _origin = ReadOrigin();
        RetainForFollowers();
        if (IsPrimary && !_database.TryGetCollection(_collection, out _))
        {
            await _database.CreateCollectionAsync(_collection, cancellationToken).ConfigureAwait(true);
        }

        ResolveAppliedAtOpen();
        if (IsPrimary)
        {
            await ResumeLinksAsync().ConfigureAwait(true);
        }

        ClusterLog.ReplicaOpened(_logger, _collection, _shard, _node, IsPrimary);
        StartFollowing();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(true);
        await StopLinksAsync().ConfigureAwait(true);
        try
        {
            await _catchUp.ConfigureAwait(true);
        }
        catch (OperationCanceledException)
        {
        }

        _feedSubscription?.Dispose();
        if (_database is not null)
        {
            await _database.DisposeAsync().ConfigureAwait(true);
            _database = null;
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _appendGate.Dispose();
    }

    public Task OpenAsync()
    {
        StartFollowing();
        return Task.CompletedTask;
    }

    public async Task<ShardAddResult> AddFacesAsync(ShardAddFaces request, long epoch)
    {
        await EnsurePrimaryAsync(epoch).ConfigureAwait(true);
        var faces = new NewFace[request.Faces.Count];
        for (int i = 0; i < faces.Length; i++)
        {
            var face = request.Faces[i];
            var box = face.Box is { Length: 4 } b ? new BoundingBox(b[0], b[1], b[2], b[3]) : (BoundingBox?)null;
            faces[i] = new NewFace(FaceVector.FromBytes(face.Vector), box, face.DetectionScore);
        }

        var result = await Database.AddFacesAsync(_collection, request.PersonId, faces, request.ModelVersion, request.ContentHash, request.Tags).ConfigureAwait(true);
        if (!result.Duplicate)
        {
            await WaitForCopiesAsync(Database.Store.FeedEnd).ConfigureAwait(true);
        }

        var ids = new long[result.Faces.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = ShardRouting.GlobalFaceId(result.Faces[i].FaceId, _shard, ShardCount);
        }

        return new ShardAddResult(ids, result.Duplicate);
    }

    public async Task<bool> DeleteFaceAsync(long faceId, long epoch)
    {
        await EnsurePrimaryAsync(epoch).ConfigureAwait(true);
        var face = await Database.DeleteFaceAsync(_collection, ShardRouting.LocalFaceId(faceId, ShardCount)).ConfigureAwait(true);
        if (face is not null)
        {
            await WaitForCopiesAsync(Database.Store.FeedEnd).ConfigureAwait(true);
        }

        return face is not null;
    }

    public async Task<IReadOnlyList<long>?> DeletePersonAsync(string personId, long epoch)
    {
        await EnsurePrimaryAsync(epoch).ConfigureAwait(true);
        var deleted = await Database.DeletePersonAsync(_collection, personId).ConfigureAwait(true);
        if (deleted is null)
        {
            return null;
        }

        await WaitForCopiesAsync(Database.Store.FeedEnd).ConfigureAwait(true);
        var ids = new long[deleted.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = ShardRouting.GlobalFaceId(deleted[i], _shard, ShardCount);
        }

        return ids;
    }

    public async Task<bool> SetPersonMetadataAsync(string personId, Dictionary<string, string> metadata, long epoch)
    {
        await EnsurePrimaryAsync(epoch).ConfigureAwait(true);
        if (!Database.TryGetPerson(_collection, personId, out _))
        {
            return false;
        }

        await Database.SetPersonMetadataAsync(_collection, personId, metadata).ConfigureAwait(true);
        await WaitForCopiesAsync(Database.Store.FeedEnd).ConfigureAwait(true);
        return true;
    }

    public Task<IReadOnlyList<ShardHit>> SearchAsync(byte[] query, int k, int ef)
    {
        var database = Database;
        if (!database.TryGetCollection(_collection, out _))
        {
            // A follower that has not received the collection's creation yet holds none of its faces.
            return Task.FromResult<IReadOnlyList<ShardHit>>([]);
        }

        var vector = FaceVector.FromBytes(query);
        var found = new Neighbor[k];
        int count = database.Search(_collection, vector, found, ef);
        var hits = new List<ShardHit>(count);
        for (int i = 0; i < count; i++)
        {
            if (database.TryGetFacePerson(_collection, found[i].Id, out var person))
            {
                hits.Add(new ShardHit(ShardRouting.GlobalFaceId(found[i].Id, _shard, ShardCount), found[i].Score, person));
            }
        }

        return Task.FromResult<IReadOnlyList<ShardHit>>(hits);
    }

    public Task<ShardPerson?> GetPersonAsync(string personId) =>
        Task.FromResult(Database.TryGetPerson(_collection, personId, out var person) ? ToShardPerson(person) : null);

    public Task<ShardVerify?> VerifyAsync(string personId, byte[] probe)
    {
        var database = Database;
        if (!database.TryGetPerson(_collection, personId, out var person))
        {
            return Task.FromResult<ShardVerify?>(null);
        }

        var vector = FaceVector.FromBytes(probe);
        ShardVerify? best = null;
        foreach (long faceId in person.FaceIds)
        {
            if (database.TryGetFace(faceId, out var face))
            {
                float distance = Similarity.Distance(vector, face.Vector);
                if (best is null || distance < best.Distance)
                {
                    best = new ShardVerify(ShardRouting.GlobalFaceId(faceId, _shard, ShardCount), distance);
                }
            }
        }

        return Task.FromResult(best);
    }

    public Task<IReadOnlyList<ShardPerson>> ListPersonsAsync(string? after, int count)
    {
        if (!Database.TryGetCollection(_collection, out _))
        {
            return Task.FromResult<IReadOnlyList<ShardPerson>>([]);
        }

        var token = after is null ? null : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(after));
        var page = Database.ListPersons(_collection, count, token);
        var persons = new List<ShardPerson>(page.Persons.Count);
        foreach (var person in page.Persons)
        {
            persons.Add(ToShardPerson(person));
        }

        return Task.FromResult<IReadOnlyList<ShardPerson>>(persons);
    }

    public Task<ReplicaStatus> GetStatusAsync()
    {
        var database = Database;
        long faces = 0;
        long persons = 0;
        if (database.TryGetCollection(_collection, out var record))
        {
            faces = record.FaceCount;
            persons = record.PersonCount;
        }

        database.TryGetIndexStats(_collection, out long indexed, out long pending);
        return Task.FromResult(new ReplicaStatus
        {
            Node = _node,
            Shard = _shard,
            Role = IsPrimary ? "primary" : "replica",
            State = IsPrimary ? "in-sync" : _followState,
            Faces = faces,
            Persons = persons,
            Indexed = indexed,
            Pending = pending,
            LastPosition = database.Store.FeedEnd,
            ReplicatedPosition = database.Store.ReplicatedPosition,
            Lag = IsPrimary ? 0 : _lag,
            Reason = IsPrimary ? null : _followReason,
        });
    }

    public Task<ShippedFeed> ReadFeedAsync(long afterPosition, int maxEntries)
    {
        var store = Database.Store;

        // 0 asks for the whole log: from where this store's log began, if it still holds it.
        var read = store.ReadFeed(afterPosition <= 0 ? _origin : afterPosition, Math.Clamp(maxEntries, 1, FeedPage * 4));
        return Task.FromResult(new ShippedFeed(ToShipped(read.Records), read.Truncated, store.FeedEnd));
    }

    public async Task DropAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(true);
        await StopLinksAsync().ConfigureAwait(true);
        _feedSubscription?.Dispose();
        _feedSubscription = null;
        if (_database is not null)
        {
            await _database.DisposeAsync().ConfigureAwait(true);
            _database = null;
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        DeactivateOnIdle();
    }

    /// <summary>Where a node keeps a shard replica: <c>shards/&lt;hash of the collection name&gt;/&lt;shard&gt;/</c> under its data directory.</summary>
    internal static string ShardDirectory(ClusterNodeOptions options, string node, string collection, int shard)
    {
        var root = options.DirectoryPerNode ? Path.Combine(options.DataDirectory, node) : options.DataDirectory;
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collection)).AsSpan(0, 8));
        return Path.GetFullPath(Path.Combine(root, "shards", name, shard.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private ICatalogGrain Catalog => GrainFactory.GetGrain<ICatalogGrain>(ICatalogGrain.Key);

    private IShardReplicaGrain Replica(string node) => GrainFactory.GetGrain<IShardReplicaGrain>(ReplicaKey.Format(_collection, _shard, node));

    private async Task<FaceDatabase> OpenDatabaseAsync(CancellationToken ct)
    {
        var storage = CopyStorage(_options.Storage, _directory);
        return await FaceDatabase.OpenAsync(storage, _options.Index, _options.Indexing, _layout!.ModelVersion, loggerFactory, exactScanner: null, ct).ConfigureAwait(true);
    }

    private static StorageOptions CopyStorage(StorageOptions source, string directory) => new()
    {
        DataDirectory = directory,
        CheckpointInterval = source.CheckpointInterval,
        GroupCommitWindow = source.GroupCommitWindow,
        CommitTimeout = source.CommitTimeout,
        MemoryBudgetBytes = source.MemoryBudgetBytes,
        IndexBuckets = source.IndexBuckets,
        SegmentSizeBytes = source.SegmentSizeBytes,
        WalMemoryBytes = source.WalMemoryBytes,
        MaxFacesPerRequest = source.MaxFacesPerRequest,
        MaxBlobBytes = source.MaxBlobBytes,
    };

    private ShardPerson ToShardPerson(PersonRecord person)
    {
        var ids = new long[person.FaceIds.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = ShardRouting.GlobalFaceId(person.FaceIds[i], _shard, ShardCount);
        }

        return new ShardPerson { PersonId = person.PersonId, FaceIds = ids, Metadata = new Dictionary<string, string>(person.Metadata, StringComparer.Ordinal) };
    }

    private static ShippedEntry[] ToShipped(IReadOnlyList<ChangeRecord> records)
    {
        var entries = new ShippedEntry[records.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new ShippedEntry(records[i].Position, records[i].NextPosition, records[i].Entry.ToArray());
        }

        return entries;
    }
}
