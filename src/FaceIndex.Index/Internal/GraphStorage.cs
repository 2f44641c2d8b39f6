using System.Runtime.CompilerServices;
using FaceIndex.Core;

namespace FaceIndex.Index.Internal;

/// <summary>
/// The memory of an HNSW graph, addressed by an int slot: every vector in one contiguous block
/// (a vector = exactly two cache lines), the base-layer neighbour lists in one flat block of
/// <c>M0</c> ints per slot, per-slot ids and tombstone bits, the entry point, and the sparse
/// upper layers (<see cref="UpperLayers"/>, shared with the storages that replace this one).
/// </summary>
/// <remarks>
/// <para>
/// Blocks are pinned (<see cref="PinnedBlock"/>), so raw pointers into them stay valid while
/// this object is alive. The index never resizes a
/// storage in place: growth builds a bigger one, copies, and publishes it; a search that still
/// holds the old one reads consistent (if slightly stale) data and the GC frees the old blocks
/// when the last such search ends.
/// </para>
/// <para>
/// Neighbour lists have no count: a list holds up to its capacity of slots and ends early at the
/// first −1. Every int ever stored in a list is −1 or a valid slot, so a search that reads a list
/// while a writer rewrites it (lists are written under a per-node lock, read without one) sees
/// only valid slots. A slot's base list is filled with −1 when the slot is first taken.
/// </para>
/// </remarks>
internal sealed unsafe class GraphStorage
{
    public const int VectorBytes = FaceVector.Dimensions;

    private readonly PinnedBlock _vectorBlock;
    private readonly PinnedBlock _linkBlock;

    /// <summary>(level &lt;&lt; 32) | slot of the entry point; −1 while the graph is empty. Written under the index's entry lock or exclusively.</summary>
    public long Entry = -1;

    public GraphStorage(int capacity, int m, UpperLayers upper)
    {
        Capacity = capacity;
        M = m;
        M0 = 2 * m;
        Upper = upper;
        _vectorBlock = new PinnedBlock((long)capacity * VectorBytes);
        Vectors = _vectorBlock.Pointer;
        _linkBlock = new PinnedBlock((long)capacity * M0 * sizeof(int));
        Links = (int*)_linkBlock.Pointer;
        Ids = new long[capacity];
        Tombstones = new ulong[(capacity + 63) / 64];
    }

    /// <summary>Slots this storage holds.</summary>
    public int Capacity { get; }

    /// <summary>Links per upper-layer list.</summary>
    public int M { get; }

    /// <summary>Links per base-layer list.</summary>
    public int M0 { get; }

    /// <summary>Start of the vector block.</summary>
    public byte* Vectors { get; }

    /// <summary>Start of the base-layer link block.</summary>
    public int* Links { get; }

    /// <summary>The layers above the base one.</summary>
    public UpperLayers Upper { get; }

    /// <summary>Face id of each slot.</summary>
    public long[] Ids { get; }

    /// <summary>One bit per slot: set when the slot's vector is deleted, not yet published, or the slot is free.</summary>
    public ulong[] Tombstones { get; }

    /// <summary>Bytes held by this storage's blocks and arrays, upper layers included.</summary>
    public long MemoryBytes =>
        _vectorBlock.Bytes + _linkBlock.Bytes + ((long)Ids.Length * sizeof(long)) +
        ((long)Tombstones.Length * sizeof(ulong)) + Upper.MemoryBytes;

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

        return Upper.List(slot, level, out capacity);
    }

    /// <summary>Level of the node in <paramref name="slot"/>.</summary>
    public int LevelOf(int slot) => Upper.LevelOf(slot);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsDeleted(int slot) => (Tombstones[slot >> 6] & (1UL << slot)) != 0;

    public void SetDeleted(int slot) => Interlocked.Or(ref Tombstones[slot >> 6], 1UL << slot);

    public void ClearDeleted(int slot) => Interlocked.And(ref Tombstones[slot >> 6], ~(1UL << slot));

    /// <summary>Empties the base list of a slot taken for the first time.</summary>
    public void ClearBaseList(int slot) => new Span<int>(BaseList(slot), M0).Fill(-1);

    /// <summary>A copy of the first <paramref name="used"/> slots in a storage of <paramref name="capacity"/> slots (same upper layers).</summary>
    public GraphStorage Grow(int capacity, int used)
    {
        var next = new GraphStorage(capacity, M, Upper) { Entry = Entry };
        Buffer.MemoryCopy(Vectors, next.Vectors, (long)capacity * VectorBytes, (long)used * VectorBytes);
        Buffer.MemoryCopy(Links, next.Links, (long)capacity * M0 * sizeof(int), (long)used * M0 * sizeof(int));
        Array.Copy(Ids, next.Ids, used);
        Array.Copy(Tombstones, next.Tombstones, (used + 63) / 64);
        return next;
    }
}
