using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// The beam of a layer search: the best nodes found so far in one array sorted best first, with
/// a cursor at the best one not yet expanded. It holds the <c>ef</c> best live nodes and the
/// deleted ones better than the worst of those (traversed, never returned); a node worse than
/// all of them is refused, and the search ends when every node in the pool is expanded — the
/// HNSW paper's algorithm 2 without its separate candidate heap, whose pushes and pops (and
/// their unpredictable branches) cost more than the distances on a graph in cache.
/// </summary>
/// <remarks>
/// Entry: <c>(score &lt;&lt; 32) | (slot &lt;&lt; 2) | expanded · 1 | deleted · 2</c>, so that entries
/// compare as one integer (score, then slot) and the flags never reorder them.
/// </remarks>
internal sealed class CandidatePool
{
    private const long Expanded = 1;
    private const long Deleted = 2;

    private long[] _entries = new long[256];
    private int _count;
    private int _live;
    private int _cursor;
    private int _ef;

    /// <summary>Entries held (live and deleted).</summary>
    public int Count => _count;

    /// <summary>Bytes held.</summary>
    public long MemoryBytes => (long)_entries.Length * sizeof(long);

    /// <summary>Empties the pool for a search of breadth <paramref name="ef"/>.</summary>
    public void Reset(int ef)
    {
        if (_entries.Length < ef + 64)
        {
            _entries = new long[ef + 64];
        }

        _ef = ef;
        _count = 0;
        _live = 0;
        _cursor = 0;
    }

    /// <summary>Whether a node of <paramref name="score"/> would enter the pool (a quick test on the score alone).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Admits(int score) => _live < _ef || score >= (int)(_entries[_count - 1] >> 32);

    /// <summary>Inserts a node (ignored when the pool is full of better live ones).</summary>
    public void Insert(int score, int slot, bool deleted)
    {
        long entry = ((long)score << 32) | ((long)slot << 2) | (deleted ? Deleted : 0);
        var entries = _entries;
        int count = _count;
        if (_live == _ef && entry <= entries[count - 1])
        {
            return;
        }

        // Binary search for the first entry below the new one (entries are distinct: slots differ).
        int low = 0;
        int high = count;
        while (low < high)
        {
            int mid = (int)((uint)(low + high) >> 1);
            if (entries[mid] > entry)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        if (count == entries.Length)
        {
            Array.Resize(ref _entries, entries.Length * 2);
            entries = _entries;
        }

        Array.Copy(entries, low, entries, low + 1, count - low);
        entries[low] = entry;
        count++;
        if (low < _cursor)
        {
            _cursor = low;
        }

        if (!deleted && ++_live > _ef)
        {
            // Drop the worst live entry (the last), then the deleted ones now behind the new worst live.
            count--;
            _live--;
            while ((entries[count - 1] & Deleted) != 0)
            {
                count--;
            }
        }

        _count = count;
    }

    /// <summary>Takes the best node not yet expanded and marks it; false when every node is expanded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryNext(out int slot)
    {
        ref long entries = ref MemoryMarshal.GetArrayDataReference(_entries);
        int cursor = _cursor;
        while (cursor < _count && (Unsafe.Add(ref entries, cursor) & Expanded) != 0)
        {
            cursor++;
        }

        _cursor = cursor + 1;
        if (cursor >= _count)
        {
            slot = -1;
            return false;
        }

        ref long entry = ref Unsafe.Add(ref entries, cursor);
        entry |= Expanded;
        slot = (int)((uint)entry >> 2);
        return true;
    }

    /// <summary>The slot the next <see cref="TryNext"/> would likely return, or −1 (for prefetching).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PeekNext()
    {
        int cursor = _cursor;
        while (cursor < _count && (_entries[cursor] & Expanded) != 0)
        {
            cursor++;
        }

        return cursor < _count ? (int)((uint)_entries[cursor] >> 2) : -1;
    }

    /// <summary>Writes the live nodes best first as search keys (<see cref="Key"/>), at most <paramref name="destination"/>.Length; returns how many.</summary>
    public int CopyLive(Span<long> destination)
    {
        int n = 0;
        for (int i = 0; i < _count && n < destination.Length; i++)
        {
            long entry = _entries[i];
            if ((entry & Deleted) == 0)
            {
                destination[n++] = Key.Pack((int)(entry >> 32), (int)((uint)entry >> 2));
            }
        }

        return n;
    }
}
