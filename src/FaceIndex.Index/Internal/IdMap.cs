using System.Runtime.CompilerServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// Face id → slot map: open addressing with linear probing over 4-byte entries, at most 90 %
/// full, of any table size (multiply-shift range reduction instead of a power of two). An entry
/// holds slot + 1 in its low 27 bits (0 = empty) and 5 more bits of the id's hash on top, so a
/// probe compares the id (read from the slot → id array that the caller passes) only on a tag
/// match: a miss scans a few cache lines of the table and reads no ids. About 4.4 bytes per
/// vector, against the 30-odd of a <see cref="Dictionary{TKey, TValue}"/>. Not thread-safe: the
/// index guards it with its allocation lock.
/// </summary>
internal sealed class IdMap
{
    private const double MaxLoad = 0.9;
    private const int SlotBits = 27;
    private const uint SlotMask = (1u << SlotBits) - 1;

    private uint[] _table;
    private int _count;

    public IdMap(int capacity) => _table = new uint[SizeFor(capacity)];

    /// <summary>Number of entries.</summary>
    public int Count => _count;

    /// <summary>Bytes held by the table.</summary>
    public long MemoryBytes => (long)_table.Length * sizeof(uint);

    /// <summary>Finds the slot of <paramref name="id"/>.</summary>
    public bool TryGet(long id, long[] ids, out int slot)
    {
        int i = Find(id, ids);
        slot = i < 0 ? -1 : (int)(_table[i] & SlotMask) - 1;
        return i >= 0;
    }

    /// <summary>Makes room for <paramref name="capacity"/> entries without growing again.</summary>
    public void EnsureCapacity(int capacity, long[] ids)
    {
        if (capacity > (long)(_table.Length * MaxLoad))
        {
            Resize(SizeFor(capacity), ids);
        }
    }

    /// <summary>Adds an entry; the caller has checked that the id is absent and set <c>ids[slot] = id</c>.</summary>
    public void Add(long id, int slot, long[] ids)
    {
        if (_count + 1 > (long)(_table.Length * MaxLoad))
        {
            Resize(SizeFor((int)Math.Min(int.MaxValue / 2, (_count + 1) * 3L / 2)), ids);
        }

        Insert(id, slot);
        _count++;
    }

    /// <summary>Removes the entry of <paramref name="id"/> (backward-shift deletion, no tombstones).</summary>
    public bool Remove(long id, long[] ids, out int slot)
    {
        int i = Find(id, ids);
        if (i < 0)
        {
            slot = -1;
            return false;
        }

        slot = (int)(_table[i] & SlotMask) - 1;

        // Shift later members of the probe run back so that every entry stays reachable from its home.
        int size = _table.Length;
        int hole = i;
        int j = i;
        while (true)
        {
            j = j + 1 == size ? 0 : j + 1;
            uint entry = _table[j];
            if (entry == 0)
            {
                break;
            }

            int home = Home(Hash(ids[(int)(entry & SlotMask) - 1]), size);
            bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!stays)
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
        foreach (uint entry in _table)
        {
            if (entry != 0)
            {
                destination[n++] = (int)(entry & SlotMask) - 1;
            }
        }
    }

    /// <summary>Empties the map and rebuilds it from the given live slots, sized for <paramref name="capacity"/>.</summary>
    public void Rebuild(long[] ids, ReadOnlySpan<int> liveSlots, int capacity)
    {
        _table = new uint[SizeFor(Math.Max(capacity, liveSlots.Length))];
        _count = 0;
        foreach (int slot in liveSlots)
        {
            Insert(ids[slot], slot);
            _count++;
        }
    }

    private int Find(long id, long[] ids)
    {
        ulong hash = Hash(id);
        uint tag = Tag(hash);
        int size = _table.Length;
        int i = Home(hash, size);
        while (true)
        {
            uint entry = _table[i];
            if (entry == 0)
            {
                return -1;
            }

            if ((entry & ~SlotMask) == tag && ids[(int)(entry & SlotMask) - 1] == id)
            {
                return i;
            }

            i = i + 1 == size ? 0 : i + 1;
        }
    }

    private void Resize(int size, long[] ids)
    {
        var old = _table;
        _table = new uint[size];
        foreach (uint entry in old)
        {
            if (entry != 0)
            {
                int slot = (int)(entry & SlotMask) - 1;
                Insert(ids[slot], slot);
            }
        }
    }

    private void Insert(long id, int slot)
    {
        ulong hash = Hash(id);
        int size = _table.Length;
        int i = Home(hash, size);
        while (_table[i] != 0)
        {
            i = i + 1 == size ? 0 : i + 1;
        }

        _table[i] = Tag(hash) | (uint)(slot + 1);
    }

    /// <summary>A 64-bit mix of the id (the splitmix64 finaliser): sequential ids spread evenly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(long id)
    {
        ulong z = (ulong)id;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Home(ulong hash, int size) => (int)(((hash >> 32) * (uint)size) >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Tag(ulong hash) => (uint)hash & ~SlotMask;

    private static int SizeFor(int count) => Math.Max(16, (int)Math.Ceiling((count + 1) / MaxLoad));
}
