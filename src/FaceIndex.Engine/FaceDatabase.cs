using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using FaceIndex.Core;
using FaceIndex.Engine.Internal;
using FaceIndex.Index;
using FaceIndex.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceIndex.Engine;

/// <summary>
/// The face database without the network: the durable <see cref="FaceStore"/> and one HNSW
/// index per collection, kept in step. The gRPC service is a thin layer over it; backends that
/// embed FaceIndex use it directly (with FaceIndex.Vision's FacePipeline for images).
/// </summary>
/// <remarks>
/// <para>
/// Writes go to the store first; once the store has made a change durable, the change is applied
/// to the collection's index and the call returns. New faces are searchable at once: they wait in
/// an exactly-scanned tail until background builders insert them into the graph, so bulk loads
/// are not throttled by graph construction.
/// </para>
/// <para>
/// Opening recovers the store, then loads each collection's graph snapshot (written periodically
/// and at dispose) and reconciles it with the store: faces the store no longer holds are removed,
/// faces the snapshot lacks are queued for insertion (all of them when there is no usable snapshot).
/// A crash at any point therefore loses nothing that was acknowledged, and never leaves a search
/// returning a face that was deleted.
/// </para>
/// </remarks>
public sealed partial class FaceDatabase : IAsyncDisposable
{
    /// <summary>The collection that calls without a collection name use; created at the first open.</summary>
    public const string DefaultCollection = "default";

    private readonly FaceStore _store;
    private readonly IndexOptions _indexOptions;
    private readonly IndexingOptions _indexing;
    private readonly string _indexDirectory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CollectionIndex> _indexes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _buildSignal = new(0);
    private readonly SemaphoreSlim _snapshotGate = new(1, 1);
    private Task _builder = Task.CompletedTask;
    private Task _snapshotter = Task.CompletedTask;
    private IDisposable? _feed;
    private int _disposed;

    private FaceDatabase(FaceStore store, string modelVersion, IndexOptions indexOptions, IndexingOptions indexing, string indexDirectory, IExactScanner? exactScanner, ILogger logger)
    {
        _store = store;
        ExactScanner = exactScanner;
        ModelVersion = modelVersion;
        _indexOptions = indexOptions;
        _indexing = indexing;
        _indexDirectory = indexDirectory;
        _logger = logger;
    }

    /// <summary>
    /// Where exact scans run besides the calling threads: large not-yet-indexed tails, and, when it
    /// is a device (<see cref="IExactScanner.IsDevice"/>), the clustering's kNN graph. Null: the CPU only.
    /// The database does not own it.
    /// </summary>
    public IExactScanner? ExactScanner { get; }

    /// <summary>The model version that new collections are created with (the embedding model's tag).</summary>
    public string ModelVersion { get; }

    /// <summary>The HNSW parameters new graphs are built with.</summary>
    public IndexOptions IndexOptions => _indexOptions.Clone();

    /// <summary>
    /// Opens (or creates) the database: recovers the store under <see cref="StorageOptions.DataDirectory"/>,
    /// loads and reconciles the index snapshots under its <c>index/</c> folder, creates the
    /// <see cref="DefaultCollection"/> when missing and starts the background builders.
    /// </summary>
    /// <param name="storage">Store settings (validated here).</param>
    /// <param name="index">HNSW parameters (validated here).</param>
    /// <param name="indexing">Indexing settings (validated here).</param>
    /// <param name="modelVersion">The model version of the vectors this database will be given.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    /// <param name="exactScanner">Where large exact scans run (a GPU); null for the CPU only. Not owned.</param>
    /// <param name="ct">Cancels the open.</param>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    /// <exception cref="FaceIndexException">StorageUnavailable: the data directory cannot be opened.</exception>
    public static async Task<FaceDatabase> OpenAsync(
        StorageOptions storage,
        IndexOptions index,
        IndexingOptions indexing,
        string modelVersion,
        ILoggerFactory? loggerFactory = null,
        IExactScanner? exactScanner = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(indexing);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelVersion);
        storage.Validate();
        index.Validate();
        indexing.Validate();
        var logger = (ILogger?)loggerFactory?.CreateLogger<FaceDatabase>() ?? NullLogger.Instance;
        var started = Stopwatch.StartNew();
        var store = await FaceStore.OpenAsync(storage, loggerFactory, ct).ConfigureAwait(false);
        var indexDirectory = Path.Combine(Path.GetFullPath(storage.DataDirectory), "index");
        var database = new FaceDatabase(store, modelVersion, index.Clone(), indexing, indexDirectory, exactScanner, logger);
        try
        {
            Directory.CreateDirectory(indexDirectory);
            database.LoadIndexes(ct);

            // Nothing writes between the replay's end and the subscription: the store is not shared yet.
            database._feed = store.SubscribeToFeed(database.OnCommitted);
            if (!store.TryGetCollection(DefaultCollection, out _))
            {
                await store.CreateCollectionAsync(DefaultCollection, modelVersion, ct).ConfigureAwait(false);
            }

            database.StartBackgroundWork();
            EngineLog.DatabaseOpened(logger, store.GetStats().Faces, database._indexes.Count, database.PendingFaces, started.ElapsedMilliseconds);
            return database;
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Faces in the graphs, over all collections.</summary>
    public long IndexedFaces => _indexes.Values.Sum(i => (long)i.IndexedCount);

    /// <summary>Acknowledged faces not yet in a graph (searched exactly meanwhile), over all collections.</summary>
    public long PendingFaces => _indexes.Values.Sum(i => (long)i.PendingCount);

    /// <summary>Counters of the store.</summary>
    public StoreStats GetStoreStats() => _store.GetStats();

    /// <summary>
    /// The durable store under the indexes: its change feed is what replication ships. Write through the
    /// database, not the store, unless the entries come from another store's feed.
    /// </summary>
    public FaceStore Store => _store;

    /// <summary>Index counters of one collection; false when it does not exist.</summary>
    public bool TryGetIndexStats(string collection, out long indexed, out long pending)
    {
        if (collection is not null && _indexes.TryGetValue(collection, out var index))
        {
            indexed = index.IndexedCount;
            pending = index.PendingCount;
            return true;
        }

        indexed = pending = 0;
        return false;
    }

    /// <summary>Reads a face by id (of any collection).</summary>
    public bool TryGetFace(long faceId, [NotNullWhen(true)] out FaceRecord? face) => _store.TryGetFace(faceId, out face);

    /// <summary>The person of a live face of the collection, from memory; false when the collection holds no such face.</summary>
    public bool TryGetFacePerson(string collection, long faceId, [NotNullWhen(true)] out string? personId) =>
        _store.TryGetFacePerson(collection, faceId, out personId);

    /// <summary>Reads a person with its live face ids and metadata.</summary>
    public bool TryGetPerson(string collection, string personId, [NotNullWhen(true)] out PersonRecord? person) =>
        _store.TryGetPerson(collection, personId, out person);

    /// <summary>One page of a collection's persons in person-id order (see <see cref="FaceStore.ListPersons"/>).</summary>
    public PersonPage ListPersons(string collection, int pageSize, string? pageToken) => _store.ListPersons(collection, pageSize, pageToken);

    /// <summary>Looks a collection up, with its live counts.</summary>
    public bool TryGetCollection(string name, [NotNullWhen(true)] out CollectionRecord? collection) => _store.TryGetCollection(name, out collection);

    /// <summary>Every collection, in name order.</summary>
    public IReadOnlyList<CollectionRecord> ListCollections() => _store.ListCollections();

    /// <summary>The faces stored before from the image with this SHA-256 for the person and collection, or null.</summary>
    public IReadOnlyList<FaceRecord>? FindByContentHash(string collection, string personId, ReadOnlySpan<byte> contentHash) =>
        _store.FindByContentHash(collection, personId, contentHash);

    /// <summary>Stores a small named value durably (for example clustering results); replaces an existing one.</summary>
    public Task PutBlobAsync(string key, ReadOnlyMemory<byte> value, CancellationToken ct = default) => _store.PutBlobAsync(key, value, ct);

    /// <summary>Reads a value stored by <see cref="PutBlobAsync"/>.</summary>
    public bool TryGetBlob(string key, [NotNullWhen(true)] out byte[]? value) => _store.TryGetBlob(key, out value);

    /// <summary>Deletes a value; false when there was none.</summary>
    public Task<bool> DeleteBlobAsync(string key, CancellationToken ct = default) => _store.DeleteBlobAsync(key, ct);

    /// <summary>The keys of stored values that start with <paramref name="prefix"/>, in ordinal order.</summary>
    public IEnumerable<string> ListBlobKeys(string prefix) => _store.ListBlobKeys(prefix);

    /// <summary>The graph of a collection (for batch jobs such as clustering that query it directly); false when the collection does not exist.</summary>
    public bool TryGetGraph(string collection, [NotNullWhen(true)] out HnswIndex? graph, out int pending)
    {
        if (collection is not null && _indexes.TryGetValue(collection, out var index))
        {
            graph = index.Graph;
            pending = index.PendingCount;
            return true;
        }

        graph = null;
        pending = 0;
        return false;
    }

    /// <summary>The ids of a collection's live faces, ascending.</summary>
    public long[] GetFaceIds(string collection) => _store.GetFaceIds(collection);

    /// <summary>
    /// Stops the builders, writes the snapshots of the graphs that changed, and closes the store
    /// (which drains its writes and takes a final checkpoint).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_builder, _snapshotter).ConfigureAwait(false);
        try
        {
            await SnapshotAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _store.DisposeAsync().ConfigureAwait(false);
            _feed?.Dispose();
            foreach (var index in _indexes.Values)
            {
                index.Dispose();
            }

            _stopping.Dispose();
            EngineLog.DatabaseClosed(_logger);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
