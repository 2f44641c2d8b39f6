using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using FaceIndex.Core;
using FaceIndex.Storage.Internal;
using FASTER.core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace FaceIndex.Storage;

/// <summary>Where recovery found a committed log entry it cannot read.</summary>
/// <param name="Address">Log address of the unreadable entry (the entry after the last good one).</param>
/// <param name="TailAddress">End of the committed log: everything from <paramref name="Address"/> to here is lost to a repair.</param>
/// <param name="Expected">What was expected there.</param>
/// <param name="Found">What was found instead.</param>
public sealed record LogDamage(long Address, long TailAddress, string Expected, string Found);

/// <summary>A log entry that a repair drops.</summary>
/// <param name="Address">Its log address.</param>
/// <param name="Bytes">Its length, as framed in the log (0 when the frame itself is unreadable).</param>
/// <param name="Kind">Its kind (AddFaces, DeleteFace, …) when it can still be read, else "unreadable" and why.</param>
public sealed record DroppedLogEntry(long Address, int Bytes, string Kind);

/// <summary>What <see cref="FaceStore.RepairLogAsync"/> found and drops.</summary>
/// <param name="Damage">The first unreadable entry.</param>
/// <param name="Dropped">Every entry from it to the end of the log, in order.</param>
/// <param name="LastGoodAddress">Address of the last entry kept (0 when none after the last checkpoint).</param>
/// <param name="Truncated">True when the log was truncated; false when the repair was not confirmed.</param>
public sealed record LogRepairPlan(LogDamage Damage, IReadOnlyList<DroppedLogEntry> Dropped, long LastGoodAddress, bool Truncated);

public sealed partial class FaceStore
{
    /// <summary>
    /// Offline repair of a store whose log holds an unreadable committed entry (the store then refuses
    /// to open with <see cref="FaceIndexError.StorageCorrupted"/>): recovers every entry before it, lists
    /// the entries from it to the end of the log, and, when <paramref name="confirm"/> agrees, checkpoints
    /// the recovered state as covering the whole log and truncates the log, so that the next open
    /// replays nothing of the dropped entries and later writes continue at higher addresses. A blob
    /// under <see cref="RepairRecordPrefix"/> records the repair.
    /// </summary>
    /// <remarks>
    /// Crash-safe: until the checkpoint is complete the store is unchanged; once it is, the next open
    /// starts after the dropped entries whether or not the log's own truncation was recorded.
    /// </remarks>
    /// <returns>Null when the log is intact (nothing done); else what was found, dropped or not.</returns>
    /// <exception cref="FaceIndexException">
    /// <see cref="FaceIndexError.StorageUnavailable"/>: the directory is in use by a server or tool, or cannot be
    /// read or written; <see cref="FaceIndexError.NotFound"/>: it holds no store.
    /// </exception>
    public static async Task<LogRepairPlan?> RepairLogAsync(StorageOptions options, Func<LogRepairPlan, bool> confirm, ILoggerFactory? loggerFactory = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(confirm);
        options.Validate();
        var directory = Path.GetFullPath(options.DataDirectory);
        if (!Exists(directory))
        {
            throw new FaceIndexException(FaceIndexError.NotFound, $"'{directory}' holds no FaceIndex store (no '{WalDirectoryName}' folder).");
        }

        var logger = (ILogger?)loggerFactory?.CreateLogger<FaceStore>() ?? NullLogger.Instance;
        var directoryLock = DirectoryLock.Acquire(directory);
        KvStore? kv = null;
        IDevice? walDevice = null;
        FasterLog? wal = null;
        FaceStore store;
        try
        {
            var guard = new DeviceGuard();
            kv = new KvStore(options, directory, guard);
            (walDevice, wal) = await OpenWalAsync(directory, options, guard, ct).ConfigureAwait(false);
            store = new FaceStore(options, logger, directoryLock, guard, kv, walDevice, wal);
        }
        catch (Exception ex)
        {
            wal?.Dispose();
            walDevice?.Dispose();
            kv?.Dispose();
            directoryLock.Dispose();
            if (ex is IOException or UnauthorizedAccessException or FasterException)
            {
                throw new FaceIndexException(FaceIndexError.StorageUnavailable, $"The store at '{directory}' cannot be opened: {ex.Message}", ex);
            }

            throw;
        }

        await using (store.ConfigureAwait(false))
        {
            var damage = new List<LogDamage>();
            store.Recover(damage);
            if (damage.Count == 0)
            {
                return null;
            }

            var plan = new LogRepairPlan(damage[0], store.ListFrom(damage[0]), store._lastSequence, Truncated: false);
            if (!confirm(plan))
            {
                return plan;
            }

            // One entry after the dropped ones records the repair (a blob, RepairRecordPrefix + time): the
            // log then starts past every address that a reader of the feed (an index snapshot's
            // watermark) may hold from before, so such a reader sees its position truncated and
            // reconciles with the store instead of trusting entries that are gone.
            var now = DateTimeOffset.UtcNow;
            var record = $"truncated the log at address {plan.Damage.Address}: dropped {plan.Dropped.Count} entries up to {plan.Damage.TailAddress} ({plan.Damage.Expected}; found: {plan.Damage.Found})";
            store._lastSequence = store.Append(new PutBlobEntry(RepairRecordPrefix + now.UtcTicks.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes(record)));
            wal.Commit(spinWait: true);

            long tail = wal.TailAddress;
            var cookie = new CheckpointCookie(tail, store._nextFaceId, store._lastSequence, now);
            if (!await kv.CheckpointAsync(cookie, ct).ConfigureAwait(false))
            {
                throw new FaceIndexException(FaceIndexError.StorageUnavailable, $"The store at '{directory}' could not take the checkpoint of the repair; nothing was changed.");
            }

            wal.TruncateUntil(tail);
            wal.Commit(spinWait: true);
            return plan with { Truncated = true };
        }
    }

    /// <summary>Key prefix of the blobs that record each log repair (the value says what was dropped).</summary>
    public const string RepairRecordPrefix = "faceindex/log-repairs/";

    /// <summary>Opens (or creates) the write-ahead log of the store in <paramref name="directory"/>.</summary>
    internal static async Task<(IDevice Device, FasterLog Log)> OpenWalAsync(string directory, StorageOptions options, DeviceGuard guard, CancellationToken ct)
    {
        var walDirectory = Path.Combine(directory, WalDirectoryName);
        Directory.CreateDirectory(walDirectory);
        var device = guard.Wrap(Devices.CreateLogDevice(WalSegmentPrefix(directory), preallocateFile: false, deleteOnClose: false, recoverDevice: true));
        try
        {
            var log = await FasterLog.CreateAsync(
                new FasterLogSettings
                {
                    LogDevice = device,
                    // Commit records through guarded devices, pruned only after a record written whole.
                    LogCommitManager = new GuardedCommits(Path.Combine(walDirectory, "commits"), guard),
                    PageSize = 1L << 20,
                    MemorySize = options.WalMemoryBytes,
                    SegmentSize = options.SegmentSizeBytes,
                    LogChecksum = LogChecksumType.PerEntry,
                },
                ct).ConfigureAwait(false);
            return (device, log);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Path prefix of the log's segment files (<c>wal/log.0</c>, <c>wal/log.1</c>, …).</summary>
    internal static string WalSegmentPrefix(string directory) => Path.Combine(Path.GetFullPath(directory), WalDirectoryName, "log");

    /// <summary>The segment file and offset of a log address, for messages.</summary>
    private static string WalSegmentName(long address, long segmentSize) =>
        $"file {WalDirectoryName}/log.{address / segmentSize}, offset {address % segmentSize}";

    /// <summary>Every entry from the damaged one to the end of the log, read as far as it can be.</summary>
    private List<DroppedLogEntry> ListFrom(LogDamage damage)
    {
        var dropped = new List<DroppedLogEntry>();
        using var checksums = new WalChecksums(WalSegmentPrefix(_options.DataDirectory), _options.SegmentSizeBytes);
        using var iterator = _wal.Scan(damage.Address, damage.TailAddress);
        long expected = damage.Address;
        while (dropped.Count < 1_000_000)
        {
            byte[] entry;
            int length;
            long address;
            long next;
            try
            {
                if (!iterator.GetNext(out entry, out length, out address, out next))
                {
                    break;
                }
            }
            catch (FasterException ex)
            {
                // FasterLog skips to the next page: what lay between is lost with its frames.
                dropped.Add(new DroppedLogEntry(expected, 0, "unreadable: " + ex.Message));
                expected = iterator.NextAddress;
                continue;
            }

            string kind;
            if (!checksums.Matches(address, entry.AsSpan(0, length), out string? mismatch))
            {
                kind = "unreadable: " + mismatch;
            }
            else
            {
                try
                {
                    kind = WalCodec.Decode(entry.AsSpan(0, length)).Kind.ToString();
                }
                catch (InvalidDataException ex)
                {
                    kind = "unreadable: " + ex.Message;
                }
            }

            dropped.Add(new DroppedLogEntry(address, length, kind));
            expected = next;
        }

        return dropped;
    }

    /// <summary>
    /// Verifies FasterLog's per-entry checksum against the entry's header in its segment file: the
    /// header is the checksum (8 bytes, the XOR of the 8-byte little-endian words of the length field
    /// and the payload, a last partial word XOR-ed byte by byte into the low byte) and the length (4 bytes).
    /// </summary>
    private sealed class WalChecksums(string prefix, long segmentSize) : IDisposable
    {
        private const int HeaderBytes = 12;
        private SafeFileHandle? _file;
        private long _segment = -1;

        public bool Matches(long address, ReadOnlySpan<byte> payload, [NotNullWhen(false)] out string? mismatch)
        {
            long segment = address / segmentSize;
            if (segment != _segment)
            {
                _file?.Dispose();
                _file = File.OpenHandle($"{prefix}.{segment}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                _segment = segment;
            }

            Span<byte> header = stackalloc byte[HeaderBytes];
            if (RandomAccess.Read(_file!, header, address % segmentSize) < HeaderBytes)
            {
                mismatch = "the segment file ends inside the entry's header";
                return false;
            }

            int length = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            if (length != payload.Length)
            {
                mismatch = $"a header that gives {length} bytes for an entry of {payload.Length}";
                return false;
            }

            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(header);
            ulong computed = Checksum(header[8..], payload);
            if (stored != computed)
            {
                mismatch = $"checksum 0x{stored:x16} in the header, 0x{computed:x16} computed from the bytes";
                return false;
            }

            mismatch = null;
            return true;
        }

        public void Dispose() => _file?.Dispose();

        private static ulong Checksum(ReadOnlySpan<byte> lengthField, ReadOnlySpan<byte> payload)
        {
            int total = lengthField.Length + payload.Length;
            var rented = ArrayPool<byte>.Shared.Rent(total);
            try
            {
                var bytes = rented.AsSpan(0, total);
                lengthField.CopyTo(bytes);
                payload.CopyTo(bytes[lengthField.Length..]);
                ulong sum = 0;
                int i = 0;
                for (; i + 8 <= total; i += 8)
                {
                    sum ^= BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]);
                }

                for (; i < total; i++)
                {
                    sum ^= bytes[i];
                }

                return sum;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
