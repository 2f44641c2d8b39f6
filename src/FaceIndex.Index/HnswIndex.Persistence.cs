using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>Current snapshot format version (docs/index-format.md).</summary>
    public const int SnapshotVersion = 1;

    private const ulong Magic = 0x5753_4E48_5844_4946; // "FIDXHNSW" little-endian
    private const int HeaderBytes = 96;
    private const int CopyChunk = 1 << 20;

    private static readonly uint[] s_sectionTags =
    [
        SectionTag("VECS"), SectionTag("LNK0"), SectionTag("UREF"), SectionTag("UPPR"),
        SectionTag("IDS "), SectionTag("TOMB"), SectionTag("FREE"),
    ];

    /// <summary>
    /// Writes a snapshot of the index (format: docs/index-format.md). Waits for running adds and
    /// removes and blocks new ones while it writes; searches go on.
    /// </summary>
    /// <remarks>
    /// The stream is written sequentially and never sought or truncated, so a crash part-way
    /// leaves a partial snapshot behind. A snapshot that replaces an earlier one must therefore
    /// go to a temporary file that is flushed to disk and then renamed over the old one, which
    /// is what <see cref="Save(string, long)"/> does.
    /// </remarks>
    /// <param name="stream">Destination, written sequentially from its current position.</param>
    /// <param name="watermark">The caller's position (for example the store's log address) that the index covers; returned by <see cref="Load"/>.</param>
    public unsafe void Save(Stream stream, long watermark)
    {
        ArgumentNullException.ThrowIfNull(stream);
        EnsureLittleEndian();
        _structureLock.EnterWriteLock();
        try
        {
            var storage = _storage;
            int used = _nextSlot;
            long entry = _entry;
            var header = new byte[HeaderBytes];
            var span = header.AsSpan();
            BinaryPrimitives.WriteUInt64LittleEndian(span, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(span[8..], SnapshotVersion);
            BinaryPrimitives.WriteInt32LittleEndian(span[12..], _m);
            BinaryPrimitives.WriteInt32LittleEndian(span[16..], _options.EfConstruction);
            BinaryPrimitives.WriteInt32LittleEndian(span[20..], _options.EfSearch);
            BinaryPrimitives.WriteInt32LittleEndian(span[24..], _options.Seed);
            BinaryPrimitives.WriteDoubleLittleEndian(span[28..], _options.RepairThreshold);
            BinaryPrimitives.WriteInt64LittleEndian(span[36..], watermark);
            BinaryPrimitives.WriteInt32LittleEndian(span[44..], used);
            BinaryPrimitives.WriteInt32LittleEndian(span[48..], _count);
            BinaryPrimitives.WriteInt32LittleEndian(span[52..], _deleted);
            BinaryPrimitives.WriteInt64LittleEndian(span[56..], entry);
            BinaryPrimitives.WriteInt32LittleEndian(span[64..], storage.UpperUsed);
            BinaryPrimitives.WriteInt32LittleEndian(span[68..], _freeSlots.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(span[88..], XxHash64.HashToUInt64(span[..88]));
            stream.Write(header);

            var free = _freeSlots.ToArray();
            WriteSection(stream, 0, storage.Vectors, (long)used * GraphStorage.VectorBytes);
            WriteSection(stream, 1, (byte*)storage.Links, (long)used * _m0 * sizeof(int));
            fixed (int* upperRef = storage.UpperRef)
            {
                WriteSection(stream, 2, (byte*)upperRef, (long)used * sizeof(int));
            }

            WriteSection(stream, 3, (byte*)storage.Upper, (long)storage.UpperUsed * sizeof(int));
            fixed (long* ids = storage.Ids)
            {
                WriteSection(stream, 4, (byte*)ids, (long)used * sizeof(long));
            }

            fixed (ulong* tombstones = storage.Tombstones)
            {
                WriteSection(stream, 5, (byte*)tombstones, (long)((used + 63) / 64) * sizeof(ulong));
            }

            fixed (int* freeSlots = free)
            {
                WriteSection(stream, 6, (byte*)freeSlots, (long)free.Length * sizeof(int));
            }

            stream.Flush();
        }
        finally
        {
            _structureLock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Writes a snapshot to <paramref name="path"/> atomically: to <c>path.tmp</c> first, flushed
    /// to disk, then renamed over <paramref name="path"/>. A crash at any point leaves either the
    /// previous file or the complete new one under <paramref name="path"/>.
    /// </summary>
    /// <param name="path">The snapshot file; its directory must exist.</param>
    /// <param name="watermark">As for <see cref="Save(Stream, long)"/>.</param>
    public void Save(string path, long watermark)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temporary = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, CopyChunk))
            {
                Save(file, watermark);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Reads a snapshot written by <see cref="Save(Stream, long)"/>.</summary>
    /// <param name="stream">Source, read sequentially from its current position.</param>
    /// <param name="watermark">The watermark given to <see cref="Save(Stream, long)"/>.</param>
    /// <exception cref="IndexSnapshotException">Not a snapshot, another version, truncated, or corrupt: rebuild the index.</exception>
    public static HnswIndex Load(Stream stream, out long watermark)
    {
        if (!TryLoad(stream, out var index, out watermark, out var fault, out var message))
        {
            throw new IndexSnapshotException(fault, message);
        }

        return index;
    }

    /// <summary>Reads a snapshot written by <see cref="Save(Stream, long)"/>; a refused snapshot is a value, not an exception.</summary>
    /// <param name="stream">Source, read sequentially from its current position.</param>
    /// <param name="index">The loaded index, when true.</param>
    /// <param name="watermark">The watermark given to <see cref="Save(Stream, long)"/>, when true.</param>
    /// <param name="fault">Why the snapshot was refused, when false.</param>
    /// <param name="message">What was wrong, for the log, when false.</param>
    /// <returns>True when loaded.</returns>
    public static bool TryLoad(Stream stream, [NotNullWhen(true)] out HnswIndex? index, out long watermark, out SnapshotFault fault, out string message)
    {
        ArgumentNullException.ThrowIfNull(stream);
        EnsureLittleEndian();
        index = null;
        watermark = 0;
        try
        {
            index = Read(stream, out watermark);
            fault = default;
            message = string.Empty;
            return true;
        }
        catch (IndexSnapshotException e)
        {
            fault = e.Fault;
            message = e.Message;
            return false;
        }
        catch (EndOfStreamException)
        {
            fault = SnapshotFault.Truncated;
            message = "The snapshot ends early.";
            return false;
        }
    }

    private static unsafe HnswIndex Read(Stream stream, out long watermark)
    {
        var header = new byte[HeaderBytes];
        int got = stream.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
        if (got < 8 || BinaryPrimitives.ReadUInt64LittleEndian(header) != Magic)
        {
            throw new IndexSnapshotException(SnapshotFault.NotASnapshot, "The stream is not an index snapshot (magic missing).");
        }

        if (got < 12)
        {
            throw new EndOfStreamException();
        }

        int version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
        if (version != SnapshotVersion)
        {
            throw new IndexSnapshotException(SnapshotFault.UnsupportedVersion, $"Snapshot format version {version}; this build reads version {SnapshotVersion}.");
        }

        if (got < HeaderBytes)
        {
            throw new EndOfStreamException();
        }

        var span = header.AsSpan();
        if (BinaryPrimitives.ReadUInt64LittleEndian(span[88..]) != XxHash64.HashToUInt64(span[..88]))
        {
            throw new IndexSnapshotException(SnapshotFault.ChecksumMismatch, "The snapshot header's checksum does not match.");
        }

        var options = new IndexOptions
        {
            M = BinaryPrimitives.ReadInt32LittleEndian(span[12..]),
            EfConstruction = BinaryPrimitives.ReadInt32LittleEndian(span[16..]),
            EfSearch = BinaryPrimitives.ReadInt32LittleEndian(span[20..]),
            Seed = BinaryPrimitives.ReadInt32LittleEndian(span[24..]),
            RepairThreshold = BinaryPrimitives.ReadDoubleLittleEndian(span[28..]),
        };
        watermark = BinaryPrimitives.ReadInt64LittleEndian(span[36..]);
        int used = BinaryPrimitives.ReadInt32LittleEndian(span[44..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(span[48..]);
        int deleted = BinaryPrimitives.ReadInt32LittleEndian(span[52..]);
        long entry = BinaryPrimitives.ReadInt64LittleEndian(span[56..]);
        int upperUsed = BinaryPrimitives.ReadInt32LittleEndian(span[64..]);
        int freeCount = BinaryPrimitives.ReadInt32LittleEndian(span[68..]);
        try
        {
            options.InitialCapacity = Math.Max(1, used);
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new IndexSnapshotException(SnapshotFault.Inconsistent, "The snapshot's options are out of range: " + e.Message, e);
        }

        Require(used >= 0 && count >= 0 && deleted >= 0 && freeCount >= 0 && count + deleted + freeCount == used, "slot counts disagree");
        Require(upperUsed >= 1, "upper-layer pool size");
        Require(entry == -1 ? count + deleted == 0 : ((int)entry >= 0 && (int)entry < used && (entry >> 32) is >= 0 and <= MaxLevel), "entry point");

        var storage = new GraphStorage(Math.Max(1, used), options.M, Math.Max(upperUsed, InitialUpperCapacity(used)));
        var free = new int[freeCount];
        ReadSection(stream, 0, storage.Vectors, (long)used * GraphStorage.VectorBytes);
        ReadSection(stream, 1, (byte*)storage.Links, (long)used * options.MaxLinksBase * sizeof(int));
        fixed (int* upperRef = storage.UpperRef)
        {
            ReadSection(stream, 2, (byte*)upperRef, (long)used * sizeof(int));
        }

        ReadSection(stream, 3, (byte*)storage.Upper, (long)upperUsed * sizeof(int));
        storage.UpperUsed = upperUsed;
        fixed (long* ids = storage.Ids)
        {
            ReadSection(stream, 4, (byte*)ids, (long)used * sizeof(long));
        }

        fixed (ulong* tombstones = storage.Tombstones)
        {
            ReadSection(stream, 5, (byte*)tombstones, (long)((used + 63) / 64) * sizeof(ulong));
        }

        fixed (int* freeSlots = free)
        {
            ReadSection(stream, 6, (byte*)freeSlots, (long)freeCount * sizeof(int));
        }

        var index = new HnswIndex(options, storage);
        index.Restore(used, count, deleted, entry, free);
        return index;
    }

    /// <summary>Checks the loaded graph's invariants and rebuilds the id map and free list.</summary>
    private unsafe void Restore(int used, int count, int deleted, long entry, int[] free)
    {
        var storage = _storage;
        var isFree = new bool[used];
        foreach (int slot in free)
        {
            Require((uint)slot < (uint)used && !isFree[slot] && storage.IsDeleted(slot), "free slot");
            isFree[slot] = true;
        }

        var live = new List<int>(count);
        int tombstoned = 0;
        for (int slot = 0; slot < used; slot++)
        {
            int reference = storage.UpperRef[slot];
            Require(reference == 0 || (reference > 0 && reference < storage.UpperUsed && storage.Upper[reference] is >= 1 and <= MaxLevel
                && reference + storage.UpperBlockSize(storage.Upper[reference]) <= storage.UpperUsed), "upper-layer reference");
            for (int level = 0; level <= storage.LevelOf(slot); level++)
            {
                int* list = storage.List(slot, level, out int capacity);
                for (int i = 0; i < capacity; i++)
                {
                    Require(list[i] >= -1 && list[i] < used, "link out of range");
                }
            }

            if (storage.IsDeleted(slot))
            {
                tombstoned++;
            }
            else
            {
                live.Add(slot);
            }
        }

        Require(live.Count == count && tombstoned == deleted + free.Length, "tombstone count");
        Require(entry < 0 || storage.LevelOf((int)entry) == (int)(entry >> 32), "entry level");
        _idMap.Rebuild(storage.Ids, CollectionsMarshal.AsSpan(live));
        Require(_idMap.Count == count, "duplicate ids");
        for (int i = free.Length - 1; i >= 0; i--)
        {
            _freeSlots.Push(free[i]);
        }

        _nextSlot = used;
        _count = count;
        _deleted = deleted;
        _entry = entry;
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new IndexSnapshotException(SnapshotFault.Inconsistent, $"The snapshot is inconsistent ({what}).");
        }
    }

    private static unsafe void WriteSection(Stream stream, int section, byte* data, long length)
    {
        Span<byte> head = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(head, s_sectionTags[section]);
        BinaryPrimitives.WriteInt64LittleEndian(head[4..], length);
        stream.Write(head);
        var hash = new XxHash64();
        for (long offset = 0; offset < length; offset += CopyChunk)
        {
            var chunk = new ReadOnlySpan<byte>(data + offset, (int)Math.Min(CopyChunk, length - offset));
            hash.Append(chunk);
            stream.Write(chunk);
        }

        Span<byte> tail = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(tail, hash.GetCurrentHashAsUInt64());
        stream.Write(tail);
    }

    private static unsafe void ReadSection(Stream stream, int section, byte* data, long length)
    {
        Span<byte> head = stackalloc byte[12];
        stream.ReadExactly(head);
        uint tag = BinaryPrimitives.ReadUInt32LittleEndian(head);
        long stored = BinaryPrimitives.ReadInt64LittleEndian(head[4..]);
        if (tag != s_sectionTags[section] || stored != length)
        {
            throw new IndexSnapshotException(SnapshotFault.Inconsistent, $"Section {section} has tag {tag:X8} and {stored} bytes; expected {s_sectionTags[section]:X8} and {length}.");
        }

        var hash = new XxHash64();
        for (long offset = 0; offset < length; offset += CopyChunk)
        {
            var chunk = new Span<byte>(data + offset, (int)Math.Min(CopyChunk, length - offset));
            stream.ReadExactly(chunk);
            hash.Append(chunk);
        }

        Span<byte> tail = stackalloc byte[8];
        stream.ReadExactly(tail);
        if (BinaryPrimitives.ReadUInt64LittleEndian(tail) != hash.GetCurrentHashAsUInt64())
        {
            throw new IndexSnapshotException(SnapshotFault.ChecksumMismatch, $"The checksum of section {section} does not match its bytes.");
        }
    }

    private static uint SectionTag(string tag) => BinaryPrimitives.ReadUInt32LittleEndian(System.Text.Encoding.ASCII.GetBytes(tag));

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Index snapshots are written on little-endian machines only.");
        }
    }
}
