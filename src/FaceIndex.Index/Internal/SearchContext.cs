using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FaceIndex.Core;

namespace FaceIndex.Index.Internal;

/// <summary>
/// Per-search scratch, rented from a <see cref="SearchContextPool"/> so that a search allocates
/// nothing: the visited set, the candidate pool, and buffers for neighbour selection.
/// </summary>
internal sealed unsafe class SearchContext
{
    private readonly byte[] _queryBlock = GC.AllocateArray<byte>(FaceVector.Dimensions + 64, pinned: true);

    public SearchContext()
    {
        var start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_queryBlock));
        Query = (byte*)(((nint)start + 63) & ~(nint)63);
    }

    /// <summary>A 64-byte aligned copy of the query vector.</summary>
    public byte* Query { get; }

    public VisitedSet Visited { get; } = new();

    public CandidatePool Pool { get; } = new();

    /// <summary>Unvisited neighbours of the node being expanded.</summary>
    public int[] Batch { get; private set; } = new int[128];

    /// <summary>Sorted keys (results, or a neighbour list being pruned).</summary>
    public long[] Keys { get; private set; } = new long[512];

    /// <summary>Slots chosen by the neighbour-selection heuristic.</summary>
    public int[] Selected { get; private set; } = new int[256];

    /// <summary>Slots chosen for the node being linked, per level.</summary>
    public int[] Chosen { get; private set; } = new int[256];

    /// <summary>Bytes held by this context.</summary>
    public long MemoryBytes =>
        Visited.MemoryBytes + Pool.MemoryBytes + ((long)Keys.Length * sizeof(long)) +
        ((long)(Batch.Length + Selected.Length + Chosen.Length) * sizeof(int)) + _queryBlock.Length;

    /// <summary>Makes the scratch buffers big enough for lists of <paramref name="maxLinks"/> and searches of <paramref name="ef"/>.</summary>
    public void Ensure(int maxLinks, int ef)
    {
        if (Batch.Length < maxLinks)
        {
            Batch = new int[maxLinks];
        }

        int keys = Math.Max(ef, maxLinks + 1);
        if (Keys.Length < keys)
        {
            Keys = new long[keys];
        }

        if (Selected.Length < maxLinks + 1)
        {
            Selected = new int[maxLinks + 1];
            Chosen = new int[maxLinks + 1];
        }
    }
}

/// <summary>
/// A small lock-free pool of <see cref="SearchContext"/>s: rent takes one out of an array
/// cell with an atomic exchange, return puts it back in an empty cell (or drops it when the pool
/// is full). Sized for twice the processor count.
/// </summary>
internal sealed class SearchContextPool
{
    private readonly SearchContext?[] _items = new SearchContext?[Math.Max(4, Environment.ProcessorCount * 2)];

    public SearchContext Rent()
    {
        var items = _items;
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is not null && Interlocked.Exchange(ref items[i], null) is { } context)
            {
                return context;
            }
        }

        return new SearchContext();
    }

    public void Return(SearchContext context)
    {
        var items = _items;
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is null && Interlocked.CompareExchange(ref items[i], context, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>Bytes held by the pooled contexts (their visited sets, mostly).</summary>
    public long MemoryBytes
    {
        get
        {
            long total = 0;
            foreach (var context in _items)
            {
                total += context?.MemoryBytes ?? 0;
            }

            return total;
        }
    }
}
