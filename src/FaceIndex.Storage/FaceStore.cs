using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;
using FASTER.core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FaceIndex.Storage;

/// <summary>
/// The durable store of collections, persons, faces and small blobs.
/// </summary>
/// <remarks>
/// <para>Every mutation is resolved by one writer task into a write-ahead-log entry (a FasterLog),
/// applied to the current state (a FASTER key-value store plus an in-memory directory of ids), and
/// acknowledged only after the log commit that covers it. The writer drains every request that arrived
/// meanwhile before committing, so concurrent requests share one commit (group commit).</para>
/// <para>Reads never wait for the writer: they go to the key-value store through pooled sessions.
/// A read can see a change a few hundred microseconds before it is acknowledged; a crash before the
/// commit loses that change, never an acknowledged one.</para>
/// <para>Checkpoints of the key-value store run periodically and at dispose, between two commits, and
/// record the log address they cover; the log is truncated behind them. Opening the store recovers the
/// latest checkpoint and replays the log after it.</para>
/// </remarks>
public sealed partial class FaceStore : IAsyncDisposable
{
    /// <summary>Largest collection name, in UTF-8 bytes.</summary>
    public const int MaxCollectionNameBytes = 128;

    /// <summary>Largest person id, in UTF-8 bytes.</summary>
    public const int MaxPersonIdBytes = 256;

    private readonly StorageOptions _options;
    private readonly ILogger _logger;
    private readonly DeviceGuard _guard;
    private readonly KvStore _kv;
    private readonly IDevice _walDevice;
    private readonly FasterLog _wal;
    private readonly DirectoryLock _directoryLock;
    private readonly ConcurrentDictionary<string, CollectionState> _collections = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _blobKeys = new(StringComparer.Ordinal);
    private readonly Lock _blobGate = new();
    private readonly Channel<WriteOp> _requests = Channel.CreateUnbounded<WriteOp>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _shutdown = new();
    private Task _writerTask = Task.CompletedTask;
    private long _nextFaceId = 1;
    private long _lastSequence;
    private long _checkpointAddress;

    /// <summary>
    /// The log address of the checkpoint before the latest: the log is truncated only up to here, so that
    /// a start that finds the latest checkpoint unreadable and falls back to the one before still has
    /// every entry after it (a checkpoint taken as the disk filled was reported complete, then not
    /// recovered: the log truncated up to it had lost 88 acknowledged faces). FASTER keeps the same two
    /// checkpoints on disk.
    /// </summary>
    private long _previousCheckpointAddress;
    private long _lastCheckpointTicks;
    private long _personCount;
    private volatile Exception? _writeFault;
    private int _disposed;

    private FaceStore(StorageOptions options, ILogger logger, DirectoryLock directoryLock, DeviceGuard guard, KvStore kv, IDevice walDevice, FasterLog wal)
    {
        _guard = guard;
        _options = options;
        _directoryLock = directoryLock;
        _logger = logger;
        _kv = kv;
        _walDevice = walDevice;
        _wal = wal;
    }

    /// <summary>The write-ahead log's folder under the data directory.</summary>
    private const string WalDirectoryName = "wal";

    /// <summary>True when <paramref name="dataDirectory"/> holds a store (for tools that must not create one by mistake).</summary>
    public static bool Exists(string dataDirectory) => Directory.Exists(Path.Combine(dataDirectory, WalDirectoryName));

    /// <summary>Opens or creates the store under <see cref="StorageOptions.DataDirectory"/>, recovering the last checkpoint and replaying the log after it.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="FaceIndexException"><see cref="FaceIndexError.StorageUnavailable"/>: the directory cannot be created, read or written.</exception>
    public static async Task<FaceStore> OpenAsync(StorageOptions options, ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var logger = (ILogger?)loggerFactory?.CreateLogger<FaceStore>() ?? NullLogger.Instance;
        var directory = Path.GetFullPath(options.DataDirectory);
        var started = Stopwatch.StartNew();
        DirectoryLock? directoryLock = null;
        KvStore? kv = null;
        IDevice? walDevice = null;
        FasterLog? wal = null;
        try
        {
            Directory.CreateDirectory(directory);
            directoryLock = DirectoryLock.Acquire(directory);
            ProbeWritable(directory);
            var guard = new DeviceGuard();
            kv = new KvStore(options, directory, guard);
            (walDevice, wal) = await OpenWalAsync(directory, options, guard, ct).ConfigureAwait(false);
            var store = new FaceStore(options, logger, directoryLock, guard, kv, walDevice, wal);
            var replayed = store.Recover();
            store.StartWriter();
            StoreLog.Opened(logger, directory, store.CountAllFaces(), Volatile.Read(ref store._personCount), store._collections.Count, store._checkpointAddress, replayed, started.ElapsedMilliseconds);
            return store;
        }
        catch (Exception ex)
        {
            wal?.Dispose();
            walDevice?.Dispose();
            kv?.Dispose();
            directoryLock?.Dispose();
            if (ex is IOException or UnauthorizedAccessException or FasterException)
            {
                throw new FaceIndexException(FaceIndexError.StorageUnavailable, $"The store at '{directory}' cannot be opened: {ex.Message}", ex);
            }

            throw;
        }
    }

    /// <summary>Counters of the store.</summary>
    public StoreStats GetStats()
    {
        var ticks = Volatile.Read(ref _lastCheckpointTicks);
        return new StoreStats(
            CountAllFaces(),
            Volatile.Read(ref _personCount),
            _collections.Count,
            Volatile.Read(ref _lastSequence),
            Math.Max(0, _wal.TailAddress - _wal.BeginAddress),
            ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero));
    }

    /// <summary>Drains pending writes, takes a final checkpoint (when writes are possible) and closes the files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _requests.Writer.TryComplete();
        try
        {
            await _writerTask.ConfigureAwait(false);
        }
        finally
        {
            await _shutdown.CancelAsync().ConfigureAwait(false);
            _wal.Dispose();
            _walDevice.Dispose();
            _kv.Dispose();
            _shutdown.Dispose();
            _directoryLock.Dispose();
            StoreLog.Closed(_logger);
        }
    }

    private long CountAllFaces()
    {
        long total = 0;
        foreach (var collection in _collections.Values)
        {
            lock (collection.Gate)
            {
                total += collection.Faces.Count;
            }
        }

        return total;
    }

    /// <summary>Creates and removes a probe file so that a read-only directory is reported at open, not at the first write.</summary>
    private static void ProbeWritable(string directory)
    {
        var probe = Path.Combine(directory, ".write-probe");
        using (var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
        {
            stream.WriteByte(1);
        }

        File.Delete(probe);
    }

    /// <summary>
    /// Tests only: drops the directory lock and nothing else, as a killed process leaves its files,
    /// so that a crash can be followed by a restart in the same process.
    /// </summary>
    internal void ReleaseDirectoryLockAsIfKilled() => _directoryLock.Dispose();

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
