using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FaceIndex.Core;

namespace FaceIndex.Index.Internal;

/// <summary>
/// The memory of an HNSW graph, addressed by an int slot: every vector in one contiguous,
/// 64-byte aligned block (a vector = exactly two cache lines), the base-layer neighbour lists in
/// one flat block of <c>M0</c> ints per slot, the sparse upper layers in a pool, and per-slot
/// ids, upper-layer references and tombstone bits.
/// </summary>
/// <remarks>
/// <para>
/// Blocks are pinned arrays, so raw pointers into them stay valid while this object is alive.
/// The index never resizes a storage in place: growth builds a bigger one, copies, and publishes
/// it; a search that still holds the old one reads consistent (if slightly stale) data and the
/// GC frees the old blocks when the last such search ends.
/// </para>
/// <para>
/// Neighbour lists have no count: a list holds up to its capacity of slots and ends early at the
/// first −1. Every int ever stored in a list is −1 or a valid slot, so a search that reads a list
/// while a writer rewrites it (lists are written under a per-node lock, read without one) sees
/// only valid slots.
/// </para>
/// <para>
/// Upper-layer block of a node of level L ≥ 1, at <c>UpperRef[slot]</c> in the pool:
/// <c>[L][M links of level 1]…[M links of level L]</c>. <c>UpperRef</c> 0 means level 0
/// (pool entry 0 is reserved).
/// </para>
/// </remarks>
internal sealed unsafe class GraphStorage
{
    public const int VectorBytes = FaceVector.Dimensions;
    private const int Alignment = 64;

    private readonly long[] _vectorBlock;
    private readonly long[] _linkBlock;
    private readonly int[] _upperBlock;

    public GraphStorage(int capacity, int m, int upperCapacity)
    {
        Capacity = capacity;
        M = m;
        M0 = 2 * m;
        UpperCapacity = Math.Max(upperCapacity, 1);
        _vectorBlock = AllocateAligned((long)capacity * VectorBytes, out var vectors);
        Vectors = vectors;
        _linkBlock = AllocateAligned((long)capacity * M0 * sizeof(int), out var links);
        Links = (int*)links;
        new Span<int>(Links, capacity * M0).Fill(-1);
        _upperBlock = GC.AllocateUninitializedArray<int>(UpperCapacity, pinned: true);
        Upper = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_upperBlock));
        UpperUsed = 1;
        Ids = new long[capacity];
        UpperRef = new int[capacity];
        Tombstones = new ulong[(capacity + 63) / 64];
    }

    /// <summary>Slots this storage holds.</summary>
    public int Capacity { get; }

    /// <summary>Links per upper-layer list.</summary>
    public int M { get; }

    /// <summary>Links per base-layer list.</summary>
    public int M0 { get; }

    /// <summary>Ints the upper-layer pool holds.</summary>
    public int UpperCapacity { get; }

    /// <summary>Ints of the upper-layer pool in use (entry 0 is reserved); guarded by the index's allocation lock.</summary>
    public int UpperUsed { get; set; }

    /// <summary>Start of the vector block (64-byte aligned).</summary>
    public byte* Vectors { get; }

    /// <summary>Start of the base-layer link block (64-byte aligned).</summary>
    public int* Links { get; }

    /// <summary>Start of the upper-layer pool.</summary>
    public int* Upper { get; }

    /// <summary>Face id of each slot.</summary>
    public long[] Ids { get; }

    /// <summary>Offset of each slot's upper-layer block in the pool; 0 for level-0 nodes.</summary>
    public int[] UpperRef { get; }

    /// <summary>One bit per slot: set when the slot's vector is deleted (or the slot is free).</summary>
    public ulong[] Tombstones { get; }

    /// <summary>Bytes held by this storage's arrays.</summary>
    public long MemoryBytes =>
        ((long)_vectorBlock.Length * sizeof(long)) + ((long)_linkBlock.Length * sizeof(long)) +
        ((long)_upperBlock.Length * sizeof(int)) + ((long)Ids.Length * sizeof(long)) +
        ((long)UpperRef.Length * sizeof(int)) + ((long)Tombstones.Length * sizeof(ulong));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Vector(int slot) => Vectors + ((nint)slot * VectorBytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* BaseList(int slot) => Links + ((nint)slot * M0);

    /// <summary>The list of <paramref name="slot"/> at <paramref name="level"/> and its capacity; an empty list when the node has no such level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* List(int slot, int level, out int capacity)
    {
        if (level == 0)
        {
            capacity = M0;
            return BaseList(slot);
        }

        int reference = UpperRef[slot];
        if (reference == 0 || Upper[reference] < level)
        {
            capacity = 0;
            return Upper;
        }

        capacity = M;
        return Upper + reference + 1 + ((level - 1) * M);
    }

    /// <summary>Level of the node in <paramref name="slot"/>.</summary>
    public int LevelOf(int slot)
    {
        int reference = UpperRef[slot];
        return reference == 0 ? 0 : Upper[reference];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsDeleted(int slot) => (Tombstones[slot >> 6] & (1UL << slot)) != 0;

    public void SetDeleted(int slot) => Interlocked.Or(ref Tombstones[slot >> 6], 1UL << slot);

    public void ClearDeleted(int slot) => Interlocked.And(ref Tombstones[slot >> 6], ~(1UL << slot));

    /// <summary>Reserves an upper-layer block for a node of <paramref name="level"/> ≥ 1; the caller has checked the room.</summary>
    public int AllocateUpper(int level)
    {
        int reference = UpperUsed;
        int size = UpperBlockSize(level);
        UpperUsed += size;
        Upper[reference] = level;
        new Span<int>(Upper + reference + 1, size - 1).Fill(-1);
        return reference;
    }

    /// <summary>Ints of an upper-layer block for a node of <paramref name="level"/> (0 for level 0).</summary>
    public int UpperBlockSize(int level) => level == 0 ? 0 : 1 + (level * M);

    /// <summary>A copy of the first <paramref name="used"/> slots in a storage of the given sizes.</summary>
    public GraphStorage Grow(int capacity, int upperCapacity, int used)
    {
        var next = new GraphStorage(capacity, M, upperCapacity);
        Buffer.MemoryCopy(Vectors, next.Vectors, (long)capacity * VectorBytes, (long)used * VectorBytes);
        Buffer.MemoryCopy(Links, next.Links, (long)capacity * M0 * sizeof(int), (long)used * M0 * sizeof(int));
        Buffer.MemoryCopy(Upper, next.Upper, (long)next.UpperCapacity * sizeof(int), (long)UpperUsed * sizeof(int));
        next.UpperUsed = UpperUsed;
        Array.Copy(Ids, next.Ids, used);
        Array.Copy(UpperRef, next.UpperRef, used);
        Array.Copy(Tombstones, next.Tombstones, (used + 63) / 64);
        return next;
    }

    private static long[] AllocateAligned(long bytes, out byte* aligned)
    {
        var block = GC.AllocateUninitializedArray<long>((int)((bytes + Alignment) / sizeof(long)) + 1, pinned: true);
        var start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(block));
        aligned = (byte*)(((nint)start + (Alignment - 1)) & ~(nint)(Alignment - 1));
        return block;
    }
}
