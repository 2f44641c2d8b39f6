using System.Collections.Concurrent;
using FASTER.core;
using Session = FASTER.core.ClientSession<FASTER.core.SpanByte, FASTER.core.SpanByte, FASTER.core.SpanByte, byte[], FASTER.core.Empty, FASTER.core.SpanByteFunctions_ByteArrayOutput<FASTER.core.Empty>>;

namespace FaceIndex.Storage.Internal;

/// <summary>
/// The current state of the store in a FASTER key-value store of byte strings (keys from
/// <see cref="Keys"/>, values from <see cref="KvCodec"/>). Readers borrow a session from a pool
/// (a FASTER session is single-threaded); the single writer owns one session. Checkpoints carry a
/// commit cookie (<see cref="CheckpointCookie"/>) so that recovery knows where to replay the
/// write-ahead log from.
/// </summary>
internal sealed class KvStore : IDisposable
{
    private readonly FasterKV<SpanByte, SpanByte> _kv;
    private readonly IDevice _device;
    private readonly GuardedCheckpoints _checkpoints;
    private readonly DeviceGuard _guard;
    private readonly SpanByteFunctions_ByteArrayOutput<Empty> _functions = new();
    private readonly ConcurrentBag<Session> _readers = [];
    private readonly Session _writer;

    /// <summary>Opens (recovering the latest readable checkpoint) or creates the store under <paramref name="directory"/>;
    /// <paramref name="guard"/> watches every write to its log and checkpoints (it also guards the store's log).</summary>
    public KvStore(StorageOptions options, string directory, DeviceGuard guard)
    {
        _guard = guard;
        var logDirectory = Path.Combine(directory, "kv");
        var checkpointDirectory = Path.Combine(directory, "kv-checkpoints");
        Directory.CreateDirectory(logDirectory);
        Directory.CreateDirectory(checkpointDirectory);
        _device = guard.Wrap(Devices.CreateLogDevice(Path.Combine(logDirectory, "hlog"), preallocateFile: false, deleteOnClose: false, recoverDevice: true));
        try
        {
            // Checkpoint files through guarded devices, pruned only after a checkpoint written whole.
            _checkpoints = new GuardedCheckpoints(checkpointDirectory, guard);
            var settings = new FasterKVSettings<SpanByte, SpanByte>
            {
                IndexSize = options.IndexBuckets * 64,
                LogDevice = _device,
                MemorySize = options.MemoryBudgetBytes,
                PageSize = Math.Min(1L << 22, options.MemoryBudgetBytes / 4),
                SegmentSize = options.SegmentSizeBytes,
                CheckpointManager = _checkpoints,
                TryRecoverLatest = true,
            };
            _kv = new FasterKV<SpanByte, SpanByte>(settings);
        }
        catch
        {
            _device.Dispose();
            throw;
        }

        _writer = NewSession();
        Recovered = _kv.RecoveredCommitCookie is { } cookie ? CheckpointCookie.Decode(cookie) : null;
    }

    /// <summary>The cookie of the checkpoint recovered at open; null when the store started empty.</summary>
    public CheckpointCookie? Recovered { get; }

    /// <summary>Reads a value with a pooled reader session (safe from any thread).</summary>
    public byte[]? Read(ReadOnlySpan<byte> key)
    {
        if (!_readers.TryTake(out var session))
        {
            session = NewSession();
        }

        try
        {
            return Read(session, key);
        }
        finally
        {
            _readers.Add(session);
        }
    }

    /// <summary>Reads a value with the writer's session (writer thread only).</summary>
    public byte[]? WriterRead(ReadOnlySpan<byte> key) => Read(_writer, key);

    /// <summary>Inserts or replaces a value (writer thread only).</summary>
    public unsafe void Upsert(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = key, v = value)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            var valueSpan = SpanByte.FromPointer(v, value.Length);
            _writer.Upsert(ref keySpan, ref valueSpan);
        }
    }

    /// <summary>Deletes a key (writer thread only); deleting an absent key is harmless.</summary>
    public unsafe void Delete(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            _writer.Delete(ref keySpan);
        }
    }

    /// <summary>Receives one record of a log scan: key, value (empty for a delete) and whether it deletes the key.</summary>
    public delegate void RecordVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool deleted);

    /// <summary>
    /// Calls <paramref name="visit"/> with every valid record of the key-value log in address order, older
    /// versions and deletes included: applying them in order yields the live state. Used at recovery,
    /// before any writer runs. (A log scan, not <c>Iterate</c>: FASTER 2.6.5's deduplicating iterator
    /// truncates variable-length keys of records read back from disk.)
    /// </summary>
    public void ScanLog(RecordVisitor visit)
    {
        using var iterator = _kv.Log.Scan(_kv.Log.BeginAddress, _kv.Log.TailAddress);
        while (iterator.GetNext(out var info))
        {
            if (!info.Valid || info.Filler && info.IsNull())
            {
                continue;
            }

            var deleted = info.Tombstone;
            visit(iterator.GetKey().AsReadOnlySpan(), deleted ? default : iterator.GetValue().AsReadOnlySpan(), deleted);
        }
    }

    /// <summary>
    /// Takes a full (index + log) fold-over checkpoint carrying <paramref name="cookie"/>; writer thread only.
    /// True when it was written whole: then every older checkpoint but the previous whole one is deleted.
    /// False when FASTER failed it or any write to the store's files failed (<see cref="DeviceGuard"/>).
    /// </summary>
    public async ValueTask<bool> CheckpointAsync(CheckpointCookie cookie, CancellationToken ct)
    {
        _kv.CommitCookie = cookie.Encode();
        var (success, token) = await _kv.TakeFullCheckpointAsync(CheckpointType.FoldOver, ct).ConfigureAwait(false);
        if (!success || _guard.Fault is not null)
        {
            return false;
        }

        _checkpoints.Prune(token);
        return true;
    }

    /// <summary>Bytes of the key-value log between its begin and tail addresses.</summary>
    public long LogBytes => _kv.Log.TailAddress - _kv.Log.BeginAddress;

    public void Dispose()
    {
        _writer.Dispose();
        while (_readers.TryTake(out var session))
        {
            session.Dispose();
        }

        _kv.Dispose();
        _checkpoints.Dispose();
        _device.Dispose();
    }

    private Session NewSession() => _kv.For(_functions).NewSession<SpanByteFunctions_ByteArrayOutput<Empty>>();

    private static unsafe byte[]? Read(Session session, ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            byte[] output = null!;
            var status = session.Read(ref keySpan, ref output);
            if (status.IsPending)
            {
                session.CompletePendingWithOutputs(out var outputs, wait: true);
                using (outputs)
                {
                    while (outputs.Next())
                    {
                        status = outputs.Current.Status;
                        output = outputs.Current.Output;
                    }
                }
            }

            return status.Found ? output : null;
        }
    }
}
