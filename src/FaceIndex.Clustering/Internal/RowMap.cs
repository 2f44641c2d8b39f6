namespace FaceIndex.Clustering;

/// <summary>
/// Face id → row of the face set. Dense ids (first, first + 1, …) map by subtraction; any other
/// set goes through a dictionary.
/// </summary>
internal sealed class RowMap
{
    private readonly long _first;
    private readonly int _count;
    private readonly Dictionary<long, int>? _rows;

    private RowMap(long first, int count, Dictionary<long, int>? rows)
    {
        _first = first;
        _count = count;
        _rows = rows;
    }

    /// <summary>Maps the given ids to their positions.</summary>
    /// <exception cref="ArgumentException">An id repeats.</exception>
    public static RowMap Create(ReadOnlySpan<long> ids)
    {
        bool dense = true;
        for (int i = 1; i < ids.Length && dense; i++)
        {
            dense = ids[i] == ids[0] + i;
        }

        if (dense)
        {
            return new RowMap(ids.IsEmpty ? 0 : ids[0], ids.Length, null);
        }

        var rows = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            if (!rows.TryAdd(ids[i], i))
            {
                throw new ArgumentException($"Face id {ids[i]} appears twice in the set.", nameof(ids));
            }
        }

        return new RowMap(0, ids.Length, rows);
    }

    /// <summary>The row of <paramref name="id"/>; false when the id is not in the set.</summary>
    public bool TryGetRow(long id, out int row)
    {
        if (_rows is not null)
        {
            return _rows.TryGetValue(id, out row);
        }

        long offset = id - _first;
        if ((ulong)offset < (ulong)_count)
        {
            row = (int)offset;
            return true;
        }

        row = -1;
        return false;
    }
}
