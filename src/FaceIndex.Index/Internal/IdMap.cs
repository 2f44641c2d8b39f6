using System.Runtime.CompilerServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// Face id → slot map: open addressing with linear probing over an <c>int[]</c> of slot + 1
/// (0 = empty). The key of an entry is read from the slot → id array that the caller passes, so
/// an entry costs 4 bytes (about 6–10 bytes per vector at the load factors used) instead of the
/// 30-odd of a <see cref="Dictionary{TKey, TValue}"/>. Not thread-safe: the index guards it with
/// its allocation lock.
/// </summary>
internal sealed class IdMap
{
    private const double MaxLoad = 0.75;

    private int[] _table;
    private int _mask;
    private int _count;

    public IdMap(int capacity)
    {
        int size = TableSizeFor(capacity);
        _table = new int[size];
        _mask = size - 1;
    }

    /// <summary>Number of entries.</summary>
    public int Count => _count;

    /// <summary>Bytes held by the table.</summary>
    public long MemoryBytes => (long)_table.Length * sizeof(int);

    /// <summary>Finds the slot of <paramref name="id"/>.</summary>
    public bool TryGet(long id, long[] ids, out int slot)
    {
        int i = Home(id);
        while (true)
        {
            int entry = _table[i];
            if (entry == 0)
            {
                slot = -1;
                return false;
            }

            if (ids[entry - 1] == id)
            {
                slot = entry - 1;
                return true;
            }

            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds an entry; the caller has checked that the id is absent and set <c>ids[slot] = id</c>.</summary>
    public void Add(long id, int slot, long[] ids)
    {
        if (_count + 1 > (int)(_table.Length * MaxLoad))
        {
            Resize(_table.Length * 2, ids);
        }

        Insert(id, slot);
        _count++;
    }

    /// <summary>Removes the entry of <paramref name="id"/> (backward-shift deletion, no tombstones).</summary>
    public bool Remove(long id, long[] ids, out int slot)
    {
        int i = Home(id);
        while (true)
        {
            int entry = _table[i];
            if (entry == 0)
            {
                slot = -1;
                return false;
            }

            if (ids[entry - 1] == id)
            {
                slot = entry - 1;
                break;
            }

            i = (i + 1) & _mask;
        }

        // Shift later members of the probe run back so that every entry stays reachable from its home.
        int hole = i;
        int j = i;
        while (true)
        {
            j = (j + 1) & _mask;
            int entry = _table[j];
            if (entry == 0)
            {
                break;
            }

            int home = Home(ids[entry - 1]);
            bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable)
            {
                _table[hole] = entry;
                hole = j;
            }
        }

        _table[hole] = 0;
        _count--;
        return true;
    }

    /// <summary>Writes the slot of every entry to <paramref name="destination"/> (at least <see cref="Count"/> long), in table order.</summary>
    public void CopySlots(Span<int> destination)
    {
        int n = 0;
        foreach (int entry in _table)
        {
            if (entry != 0)
            {
                destination[n++] = entry - 1;
            }
        }
    }

    /// <summary>Empties the map and rebuilds it from the given live slots.</summary>
    public void Rebuild(long[] ids, ReadOnlySpan<int> liveSlots)
    {
        _table = new int[TableSizeFor(liveSlots.Length)];
        _mask = _table.Length - 1;
        _count = 0;
        foreach (int slot in liveSlots)
        {
            Insert(ids[slot], slot);
            _count++;
        }
    }

    private void Resize(int size, long[] ids)
    {
        var old = _table;
        _table = new int[size];
        _mask = size - 1;
        foreach (int entry in old)
        {
            if (entry != 0)
            {
                Insert(ids[entry - 1], entry - 1);
            }
        }
    }

    private void Insert(long id, int slot)
    {
        int i = Home(id);
        while (_table[i] != 0)
        {
            i = (i + 1) & _mask;
        }

        _table[i] = slot + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Home(long id) => (int)(((ulong)id * 0x9E3779B97F4A7C15UL) >> 32) & _mask;

    private static int TableSizeFor(int count)
    {
        int size = 16;
        while (size * MaxLoad < count + 1)
        {
            size *= 2;
        }

        return size;
    }
}
