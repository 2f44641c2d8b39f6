using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
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
        int upperNodes = BinaryPrimitives.ReadInt32LittleEndian(span[64..]);
        int freeCount = BinaryPrimitives.ReadInt32LittleEndian(span[68..]);
        int upperInts = BinaryPrimitives.ReadInt32LittleEndian(span[72..]);
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
        Require(upperNodes >= 0 && upperNodes <= used && upperInts >= 2 * upperNodes, "upper-layer sizes");
        Require(entry == -1 ? count + deleted == 0 : ((int)entry >= 0 && (int)entry < used && (entry >> 32) is >= 0 and <= MaxLevel), "entry point");

        var storage = new GraphStorage(Math.Max(1, used), options.M, new UpperLayers(options.M, upperNodes)) { Entry = entry };
        var free = new int[freeCount];
        var upper = new int[upperInts];
        ReadSection(stream, 0, storage.Vectors, (long)used * GraphStorage.VectorBytes);
        ReadSection(stream, 1, (byte*)storage.Links, (long)used * options.MaxLinksBase * sizeof(int));
        fixed (int* records = upper)
        {
            ReadSection(stream, 2, (byte*)records, (long)upperInts * sizeof(int));
        }

        fixed (long* ids = storage.Ids)
        {
            ReadSection(stream, 3, (byte*)ids, (long)used * sizeof(long));
        }

        fixed (ulong* tombstones = storage.Tombstones)
        {
            ReadSection(stream, 4, (byte*)tombstones, (long)((used + 63) / 64) * sizeof(ulong));
        }

        fixed (int* freeSlots = free)
        {
            ReadSection(stream, 5, (byte*)freeSlots, (long)freeCount * sizeof(int));
        }

        DeserializeUpper(storage, upper, upperNodes, used);
        var index = new HnswIndex(options, storage);
        index.Restore(used, count, deleted, free);
        return index;
    }

    /// <summary>Rebuilds the upper layers from the records that <see cref="SerializeUpper"/> wrote.</summary>
    private static unsafe void DeserializeUpper(GraphStorage storage, int[] records, int nodes, int used)
    {
        int m = storage.M;
        int at = 0;
        int previous = -1;
        for (int node = 0; node < nodes; node++)
        {
            Require(at + 2 <= records.Length, "upper-layer record");
            int slot = records[at++];
            int level = records[at++];
            Require(slot > previous && slot < used && level is >= 1 and <= MaxLevel && at + (level * m) <= records.Length, "upper-layer record");
            storage.Upper.Allocate(slot, level);
            for (int l = 1; l <= level; l++)
            {
                records.AsSpan(at, m).CopyTo(new Span<int>(storage.List(slot, l, out _), m));
                at += m;
            }

            previous = slot;
        }

        Require(at == records.Length, "upper-layer section length");
    }

    /// <summary>Checks the loaded graph's invariants and rebuilds the id map and free list.</summary>
    private unsafe void Restore(int used, int count, int deleted, int[] free)
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

        long entry = storage.Entry;
        Require(live.Count == count && tombstoned == deleted + free.Length, "tombstone count");
        Require(entry < 0 || storage.LevelOf((int)entry) == (int)(entry >> 32), "entry level");
        _idMap.Rebuild(storage.Ids, CollectionsMarshal.AsSpan(live), storage.Capacity);
        Require(_idMap.Count == count, "duplicate ids");
        for (int i = free.Length - 1; i >= 0; i--)
        {
            _freeSlots.Push(free[i]);
        }

        _nextSlot = used;
        _count = count;
        _deleted = deleted;
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new IndexSnapshotException(SnapshotFault.Inconsistent, $"The snapshot is inconsistent ({what}).");
        }
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
}
