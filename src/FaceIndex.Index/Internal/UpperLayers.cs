using System.Runtime.CompilerServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// The layers above the base one. Only about one node in M has any, so instead of a reference
/// per slot their lists live in blocks of a chunked pool that never moves, found through a small
/// hash map from slot to block (<see cref="UpperMap"/>).
/// </summary>
/// <remarks>
/// <para>
/// Block of a node of level L ≥ 1: <c>[L][M links of level 1]…[M links of level L]</c>, the
/// lists in the base layer's format (−1 ends a list early). A block reference is
/// <c>(chunk &lt;&lt; 16) | offset</c>; chunk i holds min(1024 · 2^i, 65 536) ints, so a small graph
/// holds little and a large one adds 256 KiB at a time, and chunks are never copied.
/// </para>
/// <para>
/// Mutations (allocate, free) are serialised by the caller (the index's allocation lock, or its
/// exclusive lock); lookups take no lock. A block is filled before its map entry is published.
/// </para>
/// </remarks>
internal sealed unsafe class UpperLayers
{
    private const int ChunkShift = 16;
    private const int MaxChunkInts = 1 << ChunkShift;
    private const int MaxChunks = 8192;

    private readonly PinnedBlock?[] _chunks = new PinnedBlock?[MaxChunks];
    private readonly nint[] _chunkStarts = GC.AllocateArray<nint>(MaxChunks, pinned: true);
    private readonly Stack<int>[] _freeBlocks;
    private int _chunkCount;
    private int _chunkUsed;

    public UpperLayers(int m, int expectedNodes)
    {
        M = m;
        _freeBlocks = new Stack<int>[HnswIndex.MaxLevel + 1];
        for (int i = 0; i < _freeBlocks.Length; i++)
        {
            _freeBlocks[i] = new Stack<int>();
        }

        Map = new UpperMap(expectedNodes);
        AddChunk();
        _chunkUsed = 1; // reference 0 means "no block"
    }

    /// <summary>Links per list.</summary>
    public int M { get; }

    /// <summary>Slot → block reference of every node with upper layers.</summary>
    public UpperMap Map { get; }

    /// <summary>Nodes with upper layers.</summary>
    public int Count => Map.Count;

    /// <summary>Bytes held: the chunks and the map.</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = Map.MemoryBytes;
            for (int i = 0; i < _chunkCount; i++)
            {
                bytes += _chunks[i]!.Bytes;
            }

            return bytes;
        }
    }

    /// <summary>Ints of a block for a node of <paramref name="level"/> ≥ 1.</summary>
    public int BlockInts(int level) => 1 + (level * M);

    /// <summary>Level of the node in <paramref name="slot"/> (0 when it has no block).</summary>
    public int LevelOf(int slot)
    {
        int reference = Map.Find(slot);
        return reference == 0 ? 0 : *Block(reference);
    }

    /// <summary>The list of <paramref name="slot"/> at <paramref name="level"/> ≥ 1, or capacity 0 when the node has no such level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* List(int slot, int level, out int capacity)
    {
        int reference = Map.Find(slot);
        int* block = Block(reference);
        if (reference == 0 || *block < level)
        {
            capacity = 0;
            return block;
        }

        capacity = M;
        return block + 1 + ((level - 1) * M);
    }

    /// <summary>Gives <paramref name="slot"/> an empty block for <paramref name="level"/> ≥ 1 (caller serialises).</summary>
    public void Allocate(int slot, int level)
    {
        int size = BlockInts(level);
        if (!_freeBlocks[level].TryPop(out int reference))
        {
            if (_chunkUsed + size > ChunkInts(_chunkCount - 1))
            {
                AddChunk();
            }

            reference = ((_chunkCount - 1) << ChunkShift) | _chunkUsed;
            _chunkUsed += size;
        }

        int* block = Block(reference);
        new Span<int>(block + 1, size - 1).Fill(-1);
        *block = level;
        Map.Add(slot, reference);
    }

    /// <summary>Takes the block of <paramref name="slot"/> back for reuse (caller holds the index exclusively).</summary>
    public void Free(int slot)
    {
        int reference = Map.Remove(slot);
        if (reference != 0)
        {
            _freeBlocks[*Block(reference)].Push(reference);
        }
    }

    /// <summary>The block of a reference (the reserved empty block for 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* Block(int reference) => (int*)_chunkStarts[reference >> ChunkShift] + (reference & (MaxChunkInts - 1));

    private static int ChunkInts(int chunk) => Math.Min(MaxChunkInts, 1024 << Math.Min(chunk, ChunkShift));

    private void AddChunk()
    {
        if (_chunkCount == MaxChunks)
        {
            throw new InvalidOperationException("The upper layers are full.");
        }

        var chunk = new PinnedBlock((long)ChunkInts(_chunkCount) * sizeof(int));
        *(int*)chunk.Pointer = 0;
        _chunks[_chunkCount] = chunk;
        Volatile.Write(ref _chunkStarts[_chunkCount], (nint)chunk.Pointer);
        _chunkCount++;
        _chunkUsed = 0;
    }
}
