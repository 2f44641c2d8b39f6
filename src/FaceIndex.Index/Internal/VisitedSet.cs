using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// The nodes a search has reached: one bit per slot (1M slots = 128 KiB, which stays in the L2
/// cache where a byte or short per slot would not), emptied after each search by clearing only
/// the words it set — a search touches a few thousand nodes, not the whole graph.
/// </summary>
internal sealed class VisitedSet
{
    private const int MaxTouched = 8192;

    private readonly int[] _touched = new int[MaxTouched];
    private ulong[] _bits = [];
    private int _touchedCount;

    /// <summary>Bytes held.</summary>
    public long MemoryBytes => ((long)_bits.Length * sizeof(ulong)) + (MaxTouched * sizeof(int));

    /// <summary>Makes room for slots below <paramref name="capacity"/>; the set is empty.</summary>
    public void Reserve(int capacity)
    {
        if ((long)_bits.Length * 64 < capacity)
        {
            _bits = new ulong[(capacity + 63) / 64];
            _touchedCount = 0;
        }
    }

    /// <summary>Marks <paramref name="slot"/>; false when it was marked already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Add(int slot)
    {
        ref ulong word = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_bits), (nint)((uint)slot >> 6));
        ulong bit = 1UL << slot;
        ulong old = word;
        if ((old & bit) != 0)
        {
            return false;
        }

        if (old == 0)
        {
            Touch((uint)slot >> 6);
        }

        word = old | bit;
        return true;
    }

    /// <summary>Empties the set (the words set since the last call, or everything when they were too many to list).</summary>
    public void Clear()
    {
        if (_touchedCount > MaxTouched)
        {
            Array.Clear(_bits);
        }
        else
        {
            ref ulong bits = ref MemoryMarshal.GetArrayDataReference(_bits);
            for (int i = 0; i < _touchedCount; i++)
            {
                Unsafe.Add(ref bits, _touched[i]) = 0;
            }
        }

        _touchedCount = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Touch(uint word)
    {
        int n = _touchedCount++;
        if (n < MaxTouched)
        {
            _touched[n] = (int)word;
        }
    }
}
