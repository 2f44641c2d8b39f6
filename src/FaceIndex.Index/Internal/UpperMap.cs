using System.Runtime.CompilerServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// Slot → upper-layer block reference for the few nodes that have upper layers: open addressing
/// with linear probing over <c>long</c> entries <c>(reference &lt;&lt; 32) | (slot + 1)</c> (0 =
/// empty), any table size (multiply-shift range reduction), at most 80 % full.
/// </summary>
/// <remarks>
/// One writer at a time (the caller serialises); readers take no lock. An entry is one aligned
/// 8-byte store, so a reader sees it whole. Growth publishes a new table; a reader still probing
/// the old one may miss a node added meanwhile, and one racing a removal (repair only) may miss
/// a node whose entry is being shifted: both read as "no upper layers", which only costs a
/// search a shortcut.
/// </remarks>
internal sealed class UpperMap
{
    private const double MaxLoad = 0.8;

    private long[] _table;

    public UpperMap(int expected) => _table = new long[SizeFor(expected)];

    /// <summary>Entries.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes held by the table.</summary>
    public long MemoryBytes => (long)_table.Length * sizeof(long);

    /// <summary>The block reference of <paramref name="slot"/>, or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(int slot)
    {
        var table = Volatile.Read(ref _table);
        uint key = (uint)slot + 1;
        int i = Home(slot, table.Length);
        while (true)
        {
            long entry = Volatile.Read(ref table[i]);
            if ((uint)entry == key)
            {
                return (int)(entry >> 32);
            }

            if (entry == 0)
            {
                return 0;
            }

            i = i + 1 == table.Length ? 0 : i + 1;
        }
    }

    /// <summary>Adds an entry for a slot that has none.</summary>
    public void Add(int slot, int reference)
    {
        if (Count + 1 > (long)(_table.Length * MaxLoad))
        {
            var bigger = new long[SizeFor((Count + 1) * 3 / 2)];
            foreach (long entry in _table)
            {
                if (entry != 0)
                {
                    Insert(bigger, entry);
                }
            }

            Volatile.Write(ref _table, bigger);
        }

        Insert(_table, ((long)reference << 32) | ((uint)slot + 1));
        Count++;
    }

    /// <summary>Removes the entry of <paramref name="slot"/> (backward shift, no tombstones) and returns its reference, or 0.</summary>
    public int Remove(int slot)
    {
        var table = _table;
        uint key = (uint)slot + 1;
        int i = Home(slot, table.Length);
        while ((uint)table[i] != key)
        {
            if (table[i] == 0)
            {
                return 0;
            }

            i = i + 1 == table.Length ? 0 : i + 1;
        }

        int reference = (int)(table[i] >> 32);
        int hole = i;
        int j = i;
        while (true)
        {
            j = j + 1 == table.Length ? 0 : j + 1;
            long entry = table[j];
            if (entry == 0)
            {
                break;
            }

            // The entry may fill the hole when its home does not lie cyclically in (hole, j].
            int home = Home((int)(uint)entry - 1, table.Length);
            bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!stays)
            {
                Volatile.Write(ref table[hole], entry);
                hole = j;
            }
        }

        Volatile.Write(ref table[hole], 0L);
        Count--;
        return reference;
    }

    /// <summary>Every (slot, reference) pair, in table order.</summary>
    public IEnumerable<(int Slot, int Reference)> Entries()
    {
        foreach (long entry in _table)
        {
            if (entry != 0)
            {
                yield return ((int)(uint)entry - 1, (int)(entry >> 32));
            }
        }
    }

    private static void Insert(long[] table, long entry)
    {
        int i = Home((int)(uint)entry - 1, table.Length);
        while (table[i] != 0)
        {
            i = i + 1 == table.Length ? 0 : i + 1;
        }

        Volatile.Write(ref table[i], entry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Home(int slot, int size) => (int)(((ulong)(uint)((uint)slot * 0x9E3779B1u) * (uint)size) >> 32);

    private static int SizeFor(int count) => Math.Max(16, (int)(count / MaxLoad) + 1);
}
