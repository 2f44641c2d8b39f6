using System.Runtime.CompilerServices;

namespace FaceIndex.Index.Internal;

/// <summary>
/// Search keys: a score and a slot packed into one <c>long</c> as <c>(score &lt;&lt; 32) | slot</c>, so
/// that heaps and sorts compare one integer (higher score first; ties by slot).
/// </summary>
internal static class Key
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Pack(int score, int slot) => ((long)score << 32) | (uint)slot;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Score(long key) => (int)(key >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(long key) => (int)key;
}

/// <summary>Binary heap of keys with the largest on top (the candidates to expand, best first).</summary>
internal sealed class MaxHeap
{
    private long[] _items = new long[256];

    public int Count { get; private set; }

    public long Top => _items[0];

    public void Clear() => Count = 0;

    public void Push(long key)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        var items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent] >= key)
            {
                break;
            }

            items[i] = items[parent];
            i = parent;
        }

        items[i] = key;
    }

    public long Pop()
    {
        var items = _items;
        long top = items[0];
        long last = items[--Count];
        int n = Count;
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && items[child + 1] > items[child])
            {
                child++;
            }

            if (items[child] <= last)
            {
                break;
            }

            items[i] = items[child];
            i = child;
        }

        items[i] = last;
        return top;
    }
}

/// <summary>Binary heap of keys with the smallest on top (the ef best results, worst on top).</summary>
internal sealed class MinHeap
{
    private long[] _items = new long[256];

    public int Count { get; private set; }

    public long Top => _items[0];

    public void Clear() => Count = 0;

    public void Push(long key)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        var items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent] <= key)
            {
                break;
            }

            items[i] = items[parent];
            i = parent;
        }

        items[i] = key;
    }

    public long Pop()
    {
        var items = _items;
        long top = items[0];
        long last = items[--Count];
        int n = Count;
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && items[child + 1] < items[child])
            {
                child++;
            }

            if (items[child] >= last)
            {
                break;
            }

            items[i] = items[child];
            i = child;
        }

        items[i] = last;
        return top;
    }

    /// <summary>Replaces the top (the worst) with a better key in one sift.</summary>
    public void ReplaceTop(long key)
    {
        var items = _items;
        int n = Count;
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && items[child + 1] < items[child])
            {
                child++;
            }

            if (items[child] >= key)
            {
                break;
            }

            items[i] = items[child];
            i = child;
        }

        items[i] = key;
    }

    /// <summary>Writes the keys to <paramref name="destination"/> best first (score descending) and empties the heap.</summary>
    public int DrainBestFirst(Span<long> destination)
    {
        int n = Count;
        for (int i = n - 1; i >= 0; i--)
        {
            destination[i] = Pop();
        }

        return n;
    }
}
