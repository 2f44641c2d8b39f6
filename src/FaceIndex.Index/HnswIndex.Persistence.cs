using System.Buffers.Binary;
using System.IO.Hashing;
using FaceIndex.Index.Internal;

namespace FaceIndex.Index;

public sealed partial class HnswIndex
{
    /// <summary>Current snapshot format version (docs/index-format.md).</summary>
    public const int SnapshotVersion = 2;

    private const ulong Magic = 0x5753_4E48_5844_4946; // "FIDXHNSW" little-endian
    private const int HeaderBytes = 96;
    private const int CopyChunk = 1 << 20;

    private static readonly uint[] s_sectionTags =
    [
        SectionTag("VECS"), SectionTag("LNK0"), SectionTag("UPPR"), SectionTag("IDS "), SectionTag("TOMB"), SectionTag("FREE"),
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
            var upper = SerializeUpper(storage);
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
            BinaryPrimitives.WriteInt64LittleEndian(span[56..], storage.Entry);
            BinaryPrimitives.WriteInt32LittleEndian(span[64..], storage.Upper.Count);
            BinaryPrimitives.WriteInt32LittleEndian(span[68..], _freeSlots.Count);
            BinaryPrimitives.WriteInt32LittleEndian(span[72..], upper.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(span[88..], XxHash64.HashToUInt64(span[..88]));
            stream.Write(header);

            var free = _freeSlots.ToArray();
            WriteSection(stream, 0, storage.Vectors, (long)used * GraphStorage.VectorBytes);
            WriteSection(stream, 1, (byte*)storage.Links, (long)used * _m0 * sizeof(int));
            fixed (int* records = upper)
            {
                WriteSection(stream, 2, (byte*)records, (long)upper.Length * sizeof(int));
            }

            fixed (long* ids = storage.Ids)
            {
                WriteSection(stream, 3, (byte*)ids, (long)used * sizeof(long));
            }

            fixed (ulong* tombstones = storage.Tombstones)
            {
                WriteSection(stream, 4, (byte*)tombstones, (long)((used + 63) / 64) * sizeof(ulong));
            }

            fixed (int* freeSlots = free)
            {
                WriteSection(stream, 5, (byte*)freeSlots, (long)free.Length * sizeof(int));
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

    /// <summary>The upper-layer records, nodes in slot order: <c>[slot][level][level × M links]</c> each.</summary>
    private unsafe int[] SerializeUpper(GraphStorage storage)
    {
        var nodes = storage.Upper.Map.Entries().Select(e => e.Slot).Order().ToArray();
        int total = 0;
        foreach (int slot in nodes)
        {
            total += 2 + (storage.LevelOf(slot) * _m);
        }

        var records = new int[total];
        int at = 0;
        foreach (int slot in nodes)
        {
            int level = storage.LevelOf(slot);
            records[at++] = slot;
            records[at++] = level;
            for (int l = 1; l <= level; l++)
            {
                new ReadOnlySpan<int>(storage.List(slot, l, out _), _m).CopyTo(records.AsSpan(at));
                at += _m;
            }
        }

        return records;
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

    private static uint SectionTag(string tag) => BinaryPrimitives.ReadUInt32LittleEndian(System.Text.Encoding.ASCII.GetBytes(tag));

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Index snapshots are written on little-endian machines only.");
        }
    }
}
